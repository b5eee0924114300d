"""Shared fixtures: an isolated platform home per test, and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def platform_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MLOPS_HOME: MLflow on SQLite and data in tmp_path, nothing shared."""
    home = tmp_path / "mlops-home"
    monkeypatch.setenv("MLOPS_HOME", str(home))
    for name in (
        "MLOPS_TRACKING_URI",
        "MLOPS_STORAGE",
        "MLOPS_ARTIFACT_ROOT",
        "MLFLOW_TRACKING_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session", autouse=True)
def stop_leftover_servers(tmp_path_factory: pytest.TempPathFactory):
    """Safety net: stop any background server a test started and did not stop."""
    yield
    from deployments.runtime.servers import stop

    for pid_file in tmp_path_factory.getbasetemp().rglob("serve/*.pid"):
        stop(pid_file.parent.parent)


CHROMIUM = "/usr/bin/chromium"
# Headless as root, and nothing reaching out of this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by playwright; skips, saying why, when missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium not installed: apt-get install chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed: pip install playwright"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def pytest_configure(config: pytest.Config) -> None:
    # The suite must never touch a user's real tracking server or Prefect profile.
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Commands started by tests leave no warm worker behind unless a test asks for
    # one (tests/cli/test_warm_worker.py): each would hold a core for seconds.
    os.environ.setdefault("MLOPS_WARM_WORKER", "false")
