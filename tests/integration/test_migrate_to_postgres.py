"""`python -m deployments.migrate` moves a SQLite history into team mode's PostgreSQL.

A real MLflow store on SQLite (two runs, two versions of one model, the
champion alias on the second, tags), copied by the documented command into
the local cluster; the champion's lineage is then read back from PostgreSQL:
alias -> version -> source -> run -> experiment, and the model loads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from postgres_support import cluster_group, group_members, require_postgres, team_home
from sklearn.linear_model import LogisticRegression

from deployments.runtime import postgres
from deployments.runtime.servers import stop

REPO = Path(__file__).resolve().parents[2]
MODEL = "migrated-model"
# As docs/content/how-to/team-stack.md shows it.
DOC_MIGRATE = "python -m deployments.migrate"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "MLFLOW_"))}
    env.update(MLOPS_HOME=str(home), PYTHONPATH=str(REPO))
    return env


def _sqlite_history(home: Path) -> dict[str, str]:
    """Two runs and two versions on `<home>/mlflow.db`; the second is the champion."""
    home.mkdir(parents=True)
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment(
        "training", artifact_location=(home / "mlartifacts").as_uri()
    )
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    mlflow.set_tracking_uri(uri)
    ids = {}
    try:
        for number, c in enumerate((0.1, 10.0), start=1):
            with mlflow.start_run(experiment_id=experiment) as run:
                mlflow.log_param("C", c)
                mlflow.log_metric("accuracy", 0.5 + number / 10)
                mlflow.set_tag("prefect.flow_run_id", f"flow-run-{number}")
                info = mlflow.sklearn.log_model(
                    LogisticRegression(C=c).fit(x, y),
                    name="model",
                    pip_requirements=["scikit-learn"],
                    registered_model_name=MODEL,
                )
                ids[f"run{number}"] = run.info.run_id
                ids[f"model{number}"] = info.model_id
    finally:
        mlflow.set_tracking_uri(None)
    client.set_registered_model_alias(MODEL, "champion", "2")
    client.set_model_version_tag(MODEL, "2", "gate.promote", "true")
    ids["experiment"] = experiment
    return ids


@pytest.fixture(scope="module")
def migrated() -> Iterator[tuple[Path, dict[str, str], subprocess.CompletedProcess[str]]]:
    require_postgres()
    with team_home("migrate") as home:
        ids = _sqlite_history(home)
        result = subprocess.run(
            [sys.executable, "-m", *DOC_MIGRATE.split()[2:]],
            cwd=REPO,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=300,
        )
        yield home, ids, result


def _pg_uri(home: Path) -> str:
    database = postgres.local_database(home)
    assert database is not None, "no local cluster"
    return database.url("mlflow")


@pytest.mark.slow
def test_the_champions_lineage_resolves_in_postgresql_after_the_migration(
    migrated: tuple[Path, dict[str, str], subprocess.CompletedProcess[str]],
) -> None:
    home, ids, result = migrated
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 runs" in result.stdout and "2 model_versions" in result.stdout, result.stdout
    # when: the lineage is read from PostgreSQL, with the SQLite file out of the way
    (home / "mlflow.db").rename(home / "mlflow.db.moved")
    client = MlflowClient(_pg_uri(home))
    champion = client.get_model_version_by_alias(MODEL, "champion")
    run = client.get_run(champion.run_id)
    # then: same ids, same alias, same sources, same run and experiment
    assert str(champion.version) == "2"
    assert champion.run_id == ids["run2"]
    assert champion.tags["gate.promote"] == "true"
    assert champion.source == f"models:/{ids['model2']}"
    assert run.info.experiment_id == ids["experiment"]
    assert run.data.params == {"C": "10.0"}
    assert run.data.tags["prefect.flow_run_id"] == "flow-run-2"
    assert client.get_experiment(ids["experiment"]).name == "training"
    versions = client.search_model_versions(f"name = '{MODEL}'")
    assert {(str(v.version), v.run_id) for v in versions} == {
        ("1", ids["run1"]),
        ("2", ids["run2"]),
    }
    # and: the model behind the alias loads from its (unmoved) artifacts
    mlflow.set_tracking_uri(_pg_uri(home))  # the registry resolves sources through it
    try:
        model = mlflow.sklearn.load_model(f"models:/{MODEL}@champion")
        # and: new writes continue after the copied ids (sequences advanced)
        new = client.create_experiment("after-migration")
        again = client.create_model_version(MODEL, f"models:/{ids['model1']}", ids["run1"])
    finally:
        mlflow.set_tracking_uri(None)
    assert model.C == 10.0
    assert int(new) > int(ids["experiment"])
    assert str(again.version) == "3"


@pytest.mark.slow
def test_migrating_into_a_store_that_holds_a_history_refuses_and_changes_nothing(
    migrated: tuple[Path, dict[str, str], subprocess.CompletedProcess[str]],
) -> None:
    home, _, first = migrated
    assert first.returncode == 0, first.stderr[-3000:]
    if not (home / "mlflow.db").exists():
        (home / "mlflow.db.moved").rename(home / "mlflow.db")
    before = len(MlflowClient(_pg_uri(home)).search_model_versions(f"name = '{MODEL}'"))
    # when: the same command again
    again = subprocess.run(
        [sys.executable, "-m", "deployments.migrate"],
        cwd=REPO,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    # then: one line naming the target, exit 2, nothing merged
    assert again.returncode == 2, again.stdout + again.stderr
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --target: "), again.stderr
    assert "already holds a history" in lines[0]
    assert postgres.local_database(home).base.split(":")[2].split("@")[0] not in lines[0]
    after = len(MlflowClient(_pg_uri(home)).search_model_versions(f"name = '{MODEL}'"))
    assert after == before


@pytest.mark.slow
def test_the_local_cluster_wants_its_password_over_tcp(
    migrated: tuple[Path, dict[str, str], subprocess.CompletedProcess[str]],
) -> None:
    import psycopg2

    home, _, first = migrated
    assert first.returncode == 0, first.stderr[-3000:]
    database = postgres.local_database(home)
    assert database is not None
    port = int(database.base.rsplit(":", 1)[1].strip("/"))
    secret = home / "serve" / "postgres" / "password"
    # then: the password file is its owner's only, and without it TCP is refused
    assert secret.stat().st_mode & 0o777 == 0o600
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(host="127.0.0.1", port=port, user="mlops", dbname="mlflow")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host="127.0.0.1", port=port, user="mlops", password="guess", dbname="mlflow"
        )


@pytest.mark.slow
def test_serve_stop_stops_the_cluster_the_migration_started(
    migrated: tuple[Path, dict[str, str], subprocess.CompletedProcess[str]],
) -> None:
    home, _, first = migrated
    assert first.returncode == 0, first.stderr[-3000:]
    group = cluster_group(home)
    assert group_members(group), "the migration left no cluster running to stop"
    # when
    stopped = stop(home)
    # then
    assert "postgres" in stopped
    assert group_members(group) == []


def test_a_missing_source_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deployments.migrate", "--source", f"sqlite:///{tmp_path}/no.db"],
        cwd=REPO,
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --source: no SQLite store at {tmp_path}/no.db"
