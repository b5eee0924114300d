"""Flow tests run real flows against one Prefect test server for the session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import FaultProxy


@pytest.fixture(scope="session", autouse=True)
def prefect_server(local_prefect_api: str) -> None:
    """Every flow test on the worker's one Prefect server (tests/conftest.py)."""


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MLflow store for the session: creating and migrating one costs seconds."""
    return tmp_path_factory.mktemp("flows-home")


@pytest.fixture
def flow_home(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_HOME", str(shared_home))
    for name in (
        "MLOPS_TRACKING_URI",
        "MLOPS_STORAGE",
        "MLOPS_ARTIFACT_ROOT",
        "MLFLOW_TRACKING_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    return shared_home


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """A registered-model name unique to the test, so tests sharing a store stay independent."""
    return "t-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-").lower()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3-protocol server (moto's server mode) on a free loopback port."""
    server_module = pytest.importorskip("moto.server", reason="moto (the dev extra) is missing")
    pytest.importorskip("s3fs", reason="s3fs (the aws extra) is missing")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_proxy(s3_server: str) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the S3 server; rules added by the test."""
    host, port = s3_server.removeprefix("http://").split(":")
    proxy = FaultProxy((host, int(port)))
    proxy.url = proxy.start()  # type: ignore[attr-defined]
    yield proxy
    proxy.stop()
