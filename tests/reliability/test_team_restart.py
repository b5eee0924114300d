"""Team mode restarts, and its command lines read the served stores (issue 36).

Before: after one ordinary run as root, the warm worker had made `serve/` 0700 and
the next `serve start --db postgres` said the `postgres` user could not reach the
cluster; a start killed during `initdb` left a cluster without its password file
(initdb writes PG_VERSION early) and every later start failed with an
AssertionError; in team mode `flows.predict`, `flows.lineage` and
`flows.train --reproduce` looked in the local SQLite store and found no model.

A real PostgreSQL cluster (the platform's own, run as `postgres` when the suite
runs as root) and real Prefect and MLflow servers on it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from cli_support import run_cli
from reliability_support import register_champion

from deployments.runtime import postgres, team_auth
from deployments.runtime.servers import free_port, start, stop

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def team_base() -> Iterator[Path]:
    """A folder the cluster's user may enter (pytest's own are private to root)."""
    reason = postgres.missing_reason()
    if reason:
        pytest.skip(f"team mode on PostgreSQL cannot run here: {reason}")
    base = Path(tempfile.mkdtemp(prefix="mlops-restart-"))
    os.chmod(base, 0o755)
    logins = {k: os.environ.get(k) for k in team_auth.CLIENT_VARIABLES}  # `start` logs in
    try:
        yield base
    finally:
        stop(base / "home")
        shutil.rmtree(base, ignore_errors=True)
        for key, value in logins.items():
            os.environ.pop(key, None) if value is None else os.environ.update({key: value})


def answers(home: Path) -> bool:
    """The cluster takes a connection with its password and has the servers' databases."""
    import psycopg2

    database = postgres.local_database(home)
    assert database is not None
    connection = psycopg2.connect(database.url("mlflow").replace("+psycopg2", ""))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname IN ('mlflow', 'prefect')")
            return len(cursor.fetchall()) == 2
    finally:
        connection.close()


@pytest.mark.slow
def test_the_cluster_starts_again_after_the_warm_worker_closed_serve(team_base: Path) -> None:
    # given: a cluster made and stopped, then `serve/` made 0700 as the warm worker makes it
    home = team_base / "home"
    postgres.ensure_local(home, free_port(0))
    postgres.stop_local(home)
    os.chmod(home / "serve", 0o700)
    # when
    postgres.ensure_local(home, free_port(0))
    # then: it runs and answers (as root, as `postgres`, through serve/)
    assert answers(home)
    assert (home / "serve").stat().st_mode & 0o077 in (0o001, 0o000)  # nothing listable


@pytest.mark.slow
def test_a_start_killed_during_initdb_starts_afresh(team_base: Path) -> None:
    # given: a start killed (with its process group, as Ctrl-C or a closed terminal does)
    # as soon as initdb has written PG_VERSION, long before it finishes
    home = team_base / "home"
    data = postgres.folder_of(home) / "data"
    code = (
        "import sys; from pathlib import Path; from deployments.runtime import postgres; "
        "postgres.ensure_local(Path(sys.argv[1]), int(sys.argv[2]))"
    )
    starter = subprocess.Popen(
        [sys.executable, "-c", code, str(home), str(free_port(0))],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (data / "PG_VERSION").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(starter.pid, signal.SIGKILL)
    starter.wait(timeout=30)
    assert (data / "PG_VERSION").exists()
    assert not (postgres.folder_of(home) / postgres.PASSWORD_FILE).exists()  # the bad state
    # when
    postgres.ensure_local(home, free_port(0))
    # then: made again, with a password kept, and it answers
    assert answers(home)
    assert not list(postgres.folder_of(home).glob(".password.*"))


@pytest.mark.slow
def test_command_lines_in_team_mode_read_the_served_store(team_base: Path) -> None:
    # given: team mode's servers on PostgreSQL, a champion registered there only (its run's
    # recorded config invalid, so that --reproduce stops with a line only that store gives)
    home = team_base / "home"
    served = start(home, free_port(0), free_port(0), db="postgres", timeout=240)
    assert served.mlflow_url
    config_json = '{"model": {"name": "no-such-model"}}'
    register_champion(home, "team-model", uri=served.mlflow_url, config_json=config_json)
    batch = team_base / "batch.csv"
    pd.DataFrame({"x1": [0.5, 2.5], "x2": [1.0, 0.0]}).to_csv(batch, index=False)
    assert not (home / "mlflow.db").exists()
    # when
    lineage = run_cli(home, "flows.lineage", "team-model", timeout=300)
    reproduce = run_cli(home, "flows.train", "--reproduce", "team-model", timeout=300)
    scored = run_cli(
        home,
        "flows.predict",
        *("--model", "team-model", "--input", str(batch), "--output", str(team_base / "o.csv")),
        "--no-progress",
        timeout=600,
    )
    # then: each found the served champion (before: "no registered model", exit 2)
    assert lineage.returncode == 0, lineage.stderr[-3000:]
    assert "team-model" in lineage.stdout and "champion" in lineage.stdout
    assert reproduce.returncode == 2, reproduce.stderr[-3000:]
    assert re.search(
        r"error: --reproduce team-model/1: recorded config: .*model", reproduce.stderr
    ), reproduce.stderr[-3000:]
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert len(pd.read_csv(team_base / "o.csv")) == 2
    assert not (home / "mlflow.db").exists()  # nothing went to a local SQLite store
