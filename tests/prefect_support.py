"""The Prefect API for in-process flow tests: the platform's own local server.

The same server a user's first `python -m flows.train` starts
(`deployments.runtime.servers`), on a free loopback port and a state folder
of the session: SQLite with write transactions that wait for the lock
(`deployments.runtime.prefect_server`). Prefect's test harness runs the stock
server, whose "database is locked" 503s make concurrent sweep points and
registrations wait out the client's back-off for seconds.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID


# The test process's own Prefect server (one per pytest-xdist worker), started at
# first use: the in-process flow tests and the command lines that tests start
# (tests/cli_support.py) share it. A command line on Prefect's temporary server
# pays for that server's start (about 20 CPU-s: imports and a database) every time.
_worker_server: dict[str, str] = {}
_worker_lock = threading.Lock()

# Set by tests/conftest.py to the session's temporary folder: the server's state
# lives there, so that the session's safety net stops it at the end.
STATE_ENV = "TESTS_SESSION_TMP"


def worker_prefect_api() -> str:
    """The URL of this test process's Prefect server, started on the first call."""
    with _worker_lock:
        if "url" not in _worker_server:
            from deployments.runtime.servers import free_port, start, stop

            root = os.environ.get(STATE_ENV) or tempfile.mkdtemp(prefix="tests-prefect-")
            state = Path(root) / "worker-prefect"
            served = start(state, prefect_port=free_port(0), mlflow_port=None, timeout=180)
            atexit.register(stop, state)
            _worker_server["url"] = served.prefect_api_url
        return _worker_server["url"]


@contextlib.contextmanager
def platform_prefect_server(state: Path | None = None) -> Iterator[str]:
    """This process's flows run against a local Prefect server: the worker's shared
    one, or (with `state`) a server of their own, stopped on exit."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from deployments.runtime.servers import free_port, start, stop

    if state is None:
        url = worker_prefect_api()
    else:
        url = start(state, prefect_port=free_port(0), mlflow_port=None, timeout=180).prefect_api_url
    try:
        with (
            temporary_settings(updates={PREFECT_API_URL: url}),
            # Threads a test starts (concurrent runs) see it too, as in Prefect's harness
            prefect.context._temporary_global_settings_context(
                prefect.context.get_settings_context()
            ),
        ):
            yield url
    finally:
        if state is not None:
            stop(state)


def task_runs_of(flow_run_id: UUID, names: Iterable[str], timeout: float = 60) -> list[Any]:
    """The flow run's task runs, once every task in `names` has a final state.

    The server records task runs from the events a run sends, a moment after the
    flow run returns (seconds, on a machine that runs the suite on every core):
    polled every 0.1 s up to `timeout`, then returned as they are, so that the
    test's own assertion says what is missing. A task's name is its run's name
    without the suffix (`ingest-3f2` -> `ingest`).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId

    wanted = set(names)
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                task_run_filter=TaskRunFilter(
                    flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run_id])
                )
            )
            final = {r.name.rsplit("-", 1)[0] for r in runs if r.state and r.state.is_final()}
            if wanted <= final or time.monotonic() > deadline:
                return list(runs)
            time.sleep(0.1)


def events_for(api: str, name: str, model: str, timeout: float = 30) -> list[dict[str, Any]]:
    """The events `name` about `model` on the Prefect server at `api`, once one has arrived
    (events are written asynchronously); fails the test after `timeout` seconds."""
    import httpx

    body = {"filter": {"event": {"name": [name]}}, "limit": 50}
    deadline = time.monotonic() + timeout
    while True:
        found = httpx.post(f"{api}/events/filter", json=body, timeout=10).json()["events"]
        mine = [e for e in found if e["payload"].get("model") == model]
        if mine:
            return mine
        assert time.monotonic() < deadline, f"no {name} event for {model} arrived"
        time.sleep(1)


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A notification receiver on loopback: its URL and the JSON bodies POSTed to it
    (a GET gets 501)."""
    import http.server
    import json
    import threading

    received: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
