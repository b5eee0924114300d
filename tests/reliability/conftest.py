"""Reliability tests: a Prefect test server for in-process runs, an MLflow server on demand."""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import MlflowFaultProxy

from deployments.runtime.servers import free_port, healthy

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def prefect_server(local_prefect_api: str) -> None:
    """The worker's Prefect server for in-process flow runs, shared with tests/flows."""


def _isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("MLOPS_HOME", str(home))
    for name in (
        "MLOPS_TRACKING_URI",
        "MLOPS_STORAGE",
        "MLOPS_ARTIFACT_ROOT",
        "MLOPS_STORAGE_BLOCK",
        "MLFLOW_TRACKING_URI",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def reliability_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MLflow store for the in-process tests: creating and migrating one costs seconds."""
    return tmp_path_factory.mktemp("reliability-home")


@pytest.fixture
def shared_store(
    reliability_home: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> Path:
    """MLOPS_HOME on the session's store; tests keep apart by model name and experiment."""
    _isolate(monkeypatch, reliability_home)
    return reliability_home


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Path:
    """MLOPS_HOME on a folder of its own, for tests that check everything under it."""
    home = tmp_path / "home"
    _isolate(monkeypatch, home)
    return home


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """A registered-model name unique to the test, so tests sharing a store stay independent."""
    return "r-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-").lower()[:60]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow tracking server (SQLite store, proxied artifacts) on a free loopback port."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port(0)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    log = (folder / "server.log").open("ab")
    proc = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=folder,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not healthy(f"{url}/health", timeout=0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"MLflow server did not start at {url}:\n{tail}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def mlflow_proxy(mlflow_server: str) -> Iterator[MlflowFaultProxy]:
    """A fault-injecting proxy in front of the MLflow server; rules added by the test."""
    host, port = mlflow_server.removeprefix("http://").split(":")
    proxy = MlflowFaultProxy((host, int(port)))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def quick_io_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The platform's I/O tasks retry as many times as ever, without the growing pauses.

    For tests that count tries or check what a retry does, not how long it waits:
    the pauses (`tasks._common.IO_RETRY_DELAYS`, 1 + 4 + 10 s) are what they sat out.
    Every I/O task object the flows call is given short pauses for the test; a
    `with_options` copy made during the run inherits them. Returns the pauses.
    """
    from prefect import Task

    from tasks._common import IO_RETRY_DELAYS

    for flow_module in ("flows.runs.frameworks", "flows.runs.sweep", "flows.runs.predict"):
        importlib.import_module(flow_module)  # their tasks, before a command line imports them
    quick = [0.1] * len(IO_RETRY_DELAYS)
    seen: set[int] = set()
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("tasks", "flows") or module is None:
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, Task)
                and id(value) not in seen
                and value.retry_delay_seconds == IO_RETRY_DELAYS
            ):
                seen.add(id(value))
                monkeypatch.setattr(value, "retry_delay_seconds", quick)
    assert seen, f"no I/O task retries after {IO_RETRY_DELAYS} s"
    return quick
