"""Helpers of the reliability suite: the CLIs as subprocesses, a fault proxy, leftover checks.

The proxy sits between the platform and a real MLflow server and answers the
requests a rule picks with an HTTP error, as a flaky or dead tracking server
would; every other request goes through unchanged. Unlike
`tests/flows/s3_support.FaultProxy`, its rules see the request body, so a rule
can pick "the run-termination request with status FINISHED" out of every
`runs/update` call. No client library is patched.
"""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cli_support import cli_env, run_cli
from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[2]

# (method, path, body) -> an HTTP status to answer with instead, or None to pass it through.
Rule = Callable[[str, str, bytes], "int | None"]


# What Prefect logs by itself as the process exits (its temporary server stopping, its
# events worker flushing), after the command line has printed its error.
PREFECT_EXIT_LOG = re.compile(
    r"^\d\d:\d\d:\d\d\.\d+ \| (INFO|WARNING) +\| "
    r"(prefect - Stopping temporary server on |EventsWorker - Still processing items)"
)


def prefect_exit_notice(line: str) -> bool:
    return bool(PREFECT_EXIT_LOG.match(line))


def register_champion(
    home: Path, name: str, *, uri: str | None = None, config_json: str | None = None
) -> str:
    """A logistic regression on two columns as `name`@champion, straight through MLflow.

    Training it through a flow would cost a Prefect start; the scoring errors
    under test only need a registry entry with a signature. `uri`: the store
    (default: the home's SQLite); `config_json` is written as the run's recorded
    config. Returns the run id.
    """
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    home.mkdir(parents=True, exist_ok=True)
    uri = uri or store_uri(home)
    x = pd.DataFrame({"x1": [0.0, 1.0, 2.0, 3.0], "x2": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    client = MlflowClient(uri)
    found = client.get_experiment_by_name("training")
    experiment = (
        found.experiment_id
        if found
        else client.create_experiment(
            "training", artifact_location=(home / "mlartifacts").resolve().as_uri()
        )
    )
    run = client.create_run(experiment)
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run(run_id=run.info.run_id):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(x, model.predict(x)),
                registered_model_name=name,
                pip_requirements=["scikit-learn"],
            )
            if config_json is not None:
                mlflow.log_text(config_json, "config/config.json")
    finally:
        mlflow.set_tracking_uri(None)
    client.set_registered_model_alias(name, "champion", str(info.registered_model_version))
    return run.info.run_id


def store_uri(home: Path) -> str:
    return f"sqlite:///{home.resolve()}/mlflow.db"


def running_runs(home: Path) -> list[str]:
    """Ids of the MLflow runs left RUNNING in the home's store (none when it has no store)."""
    if not (home / "mlflow.db").is_file():
        return []
    client = MlflowClient(store_uri(home))
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return []
    runs = client.search_runs(experiments, filter_string="attributes.status = 'RUNNING'")
    return [r.info.run_id for r in runs]


def temp_files(folder: Path) -> list[Path]:
    """Files an interrupted atomic write would leave behind (`.<name>.<hex>.tmp`)."""
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and p.name.endswith(".tmp")]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def sqlite_rows(db: Path, query: str) -> list[tuple]:
    """Read-only query on a store another process is writing; [] while it is busy or absent."""
    if not db.is_file():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as conn:
            return conn.execute(query).fetchall()
    except sqlite3.Error:
        return []


@dataclass
class MlflowFaultProxy:
    """HTTP proxy to an MLflow server at `upstream` (host, port); `rules` may answer instead."""

    upstream: tuple[str, int]
    rules: list[Rule] = field(default_factory=list)
    injected: list[tuple[str, str, int]] = field(default_factory=list)
    passed: int = 0
    url: str = ""
    killed_at: float | None = None  # time.monotonic() of `kill`

    def start(self) -> str:
        proxy = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _answer(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _handle(self) -> None:
                if proxy.killed_at is not None:  # dead: the open connection drops, unanswered
                    self.close_connection = True
                    return
                body = self._body()
                with lock:
                    status = next(
                        (s for rule in proxy.rules if (s := rule(self.command, self.path, body))),
                        None,
                    )
                    if status is not None:
                        proxy.injected.append((self.command, self.path, status))
                    else:
                        proxy.passed += 1
                if proxy.killed_at is not None:  # killed by a rule: this request is lost
                    self.close_connection = True
                    return
                if status is not None:
                    error = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected fault"}
                    self._answer(status, json.dumps(error).encode(), "application/json")
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"
                }
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def kill(self) -> None:
        """Die as a killed server does: open connections drop, new ones are refused.

        Safe to call from a rule (a handler thread): the listener stops in the background.
        """
        if self.killed_at is not None:
            return
        self.killed_at = time.monotonic()
        threading.Thread(target=self.stop, daemon=True).start()


def outage(seconds: float | None, *, starting_at: str = "") -> Rule:
    """503 for every request for `seconds` (None: for good), from the first one whose path
    contains `starting_at` (default: from the first request)."""
    window: dict[str, float] = {}

    def rule(method: str, path: str, body: bytes) -> int | None:
        if "start" not in window:
            if starting_at not in path:
                return None
            window["start"] = time.monotonic()
        if seconds is None or time.monotonic() - window["start"] < seconds:
            return 503
        return None

    return rule


def kill_at(proxy: MlflowFaultProxy, path: str, nth: int) -> Rule:
    """Kill `proxy` when the `nth` request whose path contains `path` arrives (it is lost)."""
    seen = {"n": 0}

    def rule(method: str, request_path: str, body: bytes) -> int | None:
        if path in request_path:
            seen["n"] += 1
            if seen["n"] == nth:
                proxy.kill()
        return None

    return rule


def fail_run_termination(times: int, status: str = "FINISHED") -> Rule:
    """503 for the first `times` requests that end a run with `status`, then pass them."""
    left = {"n": times}

    def rule(method: str, path: str, body: bytes) -> int | None:
        if method != "POST" or not path.endswith("/runs/update") or left["n"] <= 0:
            return None
        try:
            wanted = json.loads(body or b"{}").get("status") == status
        except ValueError:
            return None
        if wanted:
            left["n"] -= 1
            return 503
        return None

    return rule


__all__ = [
    "REPO",
    "MlflowFaultProxy",
    "cli_env",
    "fail_run_termination",
    "files_under",
    "kill_at",
    "outage",
    "prefect_exit_notice",
    "register_champion",
    "run_cli",
    "running_runs",
    "sqlite_rows",
    "store_uri",
    "temp_files",
]
