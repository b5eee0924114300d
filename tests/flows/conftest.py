"""Flow tests run real flows against one Prefect test server for the session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    # Starting the harness takes seconds: once per session, not per test.
    with prefect_test_harness(server_startup_timeout=120):
        yield


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
