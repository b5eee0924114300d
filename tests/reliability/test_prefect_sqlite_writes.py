"""The local Prefect server takes concurrent writes without "database is locked" 503s.

Concurrent sweep points each create a flow run and move it through its states.
On SQLite with Prefect's DEFERRED write transactions, a read-then-write that
loses the race fails at once with `database is locked`, the API answers 503
and the client sleeps 1-8 s (issue 20's stalls). The platform's server
(`deployments.runtime.prefect_server`) begins them IMMEDIATE, so writers wait
for the lock instead. Real server, real SQLite, raw REST calls (no client
retries to hide a 503).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deployments.runtime.servers import Served, free_port, start, stop

THREADS = 4
RUNS_PER_THREAD = 10


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("PREFECT_SERVER_LOG_RETRYABLE_ERRORS", "true")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    served = start(tmp_path, prefect_port=free_port(0), mlflow_port=None, timeout=180)
    yield served
    stop(tmp_path)


def _life_of_runs(api: str, flow_id: str, statuses: list[int], errors: list[str]) -> None:
    with httpx.Client(base_url=api, timeout=90) as client:
        for _ in range(RUNS_PER_THREAD):
            try:
                run = client.post("/flow_runs/", json={"flow_id": flow_id})
                statuses.append(run.status_code)
                if run.status_code != 201:
                    continue
                run_id = run.json()["id"]
                for state in ("PENDING", "RUNNING", "COMPLETED"):
                    moved = client.post(
                        f"/flow_runs/{run_id}/set_state",
                        json={"state": {"type": state}, "force": True},
                    )
                    statuses.append(moved.status_code)
            except httpx.HTTPError as exc:  # pragma: no cover - reported below
                errors.append(repr(exc))


def test_concurrent_flow_run_writes_never_get_a_locked_database(served: Served) -> None:
    # given: one flow, and threads that each create runs and move them through states
    api = served.prefect_api_url
    flow = httpx.post(f"{api}/flows/", json={"name": "locks"}, timeout=60)
    assert flow.status_code in (200, 201), flow.text
    statuses: list[int] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_life_of_runs, args=(api, flow.json()["id"], statuses, errors))
        for _ in range(THREADS)
    ]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: every write answered at once, and the server never hit a locked database
    assert not errors
    assert len(statuses) == THREADS * RUNS_PER_THREAD * 4
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    log = (served.home / "serve" / "prefect.log").read_text(errors="replace")
    assert "database is locked" not in log
