"""Shared fixtures: an isolated platform home per test, and the repository root.

Also what lets the suite run on several workers (`make test`: pytest-xdist,
`--dist loadfile`, then the `serial` tests alone): the ports the platform's
servers prefer are held for the whole run, and the heaviest modules are
handed out first.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# MLOPS_TEST_PROFILE=FILE: wall and CPU per test (benchmarks/suite_profile.py reads it).
pytest_plugins = ["suite_profile"]


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


@pytest.fixture(scope="session")
def local_prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This worker's Prefect server for in-process flow runs, started once per session.

    tests/flows and tests/reliability share it (a start costs seconds), and task
    results (the cache) go to the session's own folder, not ~/.prefect/storage,
    which every worker and every earlier run would share.
    """
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect_support import platform_prefect_server

    results = tmp_path_factory.mktemp("prefect-results")
    with (
        platform_prefect_server() as url,  # the worker's server, which command lines share
        temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: results}),
    ):
        yield url


@pytest.fixture(scope="session", autouse=True)
def stop_leftover_servers(tmp_path_factory: pytest.TempPathFactory):
    """Safety net: stop any background server a test started and did not stop
    (the worker's shared Prefect server among them: tests/prefect_support.py)."""
    from prefect_support import STATE_ENV

    os.environ[STATE_ENV] = str(tmp_path_factory.getbasetemp())
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


# The ports the platform's servers prefer: Prefect 4200, MLflow 5000, PostgreSQL 5432.
# The run holds them (bound, not listening: a connection there is refused at once),
# so `free_port(4200)` hands every worker a port of the kernel's choosing instead
# of 4200 to two workers at once, and no test passes only because they were free.
PREFERRED_PORTS = (4200, 5000, 5432)
_held_ports: list[socket.socket] = []


def _hold_preferred_ports() -> None:
    for port in PREFERRED_PORTS:
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()  # held already (the run's controller, another checkout): as good
            continue
        _held_ports.append(sock)


# With `--dist loadfile` a module runs whole on one worker (its module and
# session fixtures built once), and modules are handed out in collection
# order: the longest first, so that no worker starts a two-minute module last.
# Measured serially with --durations (issue 29); a module not named here goes
# by its folder, and among those a module with a `slow` test first.
RUN_FIRST = (
    "tests/integration/test_team_stack_concurrency.py",
    "tests/integration/test_team_auth.py",
    "tests/cli/test_one_local_platform.py",
    "tests/reliability/test_kill_reconcile.py",
    "tests/integration/test_model_serving.py",
    "tests/integration/test_deployments.py",
    "tests/reliability/test_registry_faults.py",
)
FOLDER_ORDER = ("integration", "reliability", "cli", "flows", "browser", "docs", "infra", "unit")


def _module_rank(path: str, slow: bool) -> tuple[int, int, int]:
    if path in RUN_FIRST:
        return (0, RUN_FIRST.index(path), 0)
    parts = path.split("/")
    folder = parts[1] if len(parts) > 2 else ""
    order = FOLDER_ORDER.index(folder) if folder in FOLDER_ORDER else len(FOLDER_ORDER)
    return (1, order, 0 if slow else 1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Heaviest modules first; a module's tests stay together and in their order."""
    first_seen: dict[str, int] = {}
    slow: set[str] = set()
    for index, item in enumerate(items):
        path = item.nodeid.split("::", 1)[0]
        first_seen.setdefault(path, index)
        if item.get_closest_marker("slow") is not None:
            slow.add(path)

    def key(item: pytest.Item) -> tuple[tuple[int, int, int], int]:
        path = item.nodeid.split("::", 1)[0]
        return _module_rank(path, path in slow), first_seen[path]

    items.sort(key=key)  # stable: tests within a module keep their order


def pytest_configure(config: pytest.Config) -> None:
    _hold_preferred_ports()
    # The suite must never touch a user's real tracking server or Prefect profile.
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Commands started by tests leave no warm worker behind unless a test asks for
    # one (tests/cli/test_warm_worker.py): each would hold a core for seconds.
    os.environ.setdefault("MLOPS_WARM_WORKER", "false")


def pytest_unconfigure(config: pytest.Config) -> None:
    while _held_ports:
        _held_ports.pop().close()
