"""Team mode's bad input and choices, with no server started: one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.runtime import postgres
from deployments.runtime.servers import choose_db, chosen_db

REPO = Path(__file__).resolve().parents[2]


def _serve(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_"))}
    env.update(MLOPS_HOME=str(home), PYTHONPATH=str(REPO), **extra)
    return subprocess.run(
        [sys.executable, "-m", "deployments.serve", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "url",
    ["mysql://user@db:3306/", "sqlite:///x.db", "postgresql:///no-host", "not a url"],
)
def test_a_database_url_that_is_not_postgresql_is_one_line_and_exit_2(
    tmp_path: Path, url: str
) -> None:
    # when
    result = _serve(tmp_path / "home", "start", "--db", "postgres", MLOPS_DATABASE_URL=url)
    # then
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: MLOPS_DATABASE_URL: expected postgresql://"), line
    assert not (tmp_path / "home" / "serve" / "servers.json").exists()
    assert not (tmp_path / "home" / "serve" / "prefect.pid").exists()


def test_an_unknown_db_is_refused_by_the_command_line(tmp_path: Path) -> None:
    result = _serve(tmp_path / "home", "start", "--db", "oracle")
    assert result.returncode == 2
    assert "invalid choice: 'oracle'" in result.stderr


def test_the_database_url_is_shown_without_its_password() -> None:
    database = postgres.Database("postgresql://team:s3cret@db.internal:5432/", local=False)
    assert database.shown == "postgresql://team@db.internal:5432/"
    assert database.url("prefect", "asyncpg") == (
        "postgresql+asyncpg://team:s3cret@db.internal:5432/prefect"
    )
    assert database.url("mlflow") == "postgresql+psycopg2://team:s3cret@db.internal:5432/mlflow"


def test_the_choice_of_database_is_kept_and_defaults_to_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: nothing chosen, no URL
    monkeypatch.delenv("MLOPS_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    assert chosen_db(home) == "sqlite"
    # when / then: a URL alone means PostgreSQL; a recorded choice wins over it
    monkeypatch.setenv("MLOPS_DATABASE_URL", "postgresql://u@h:5432/")
    assert chosen_db(home) == "postgres"
    choose_db(home, "sqlite")
    assert chosen_db(home) == "sqlite"
    assert json.loads((home / "serve" / "database.json").read_text()) == {"db": "sqlite"}
    with pytest.raises(ValueError, match="--db: expected one of sqlite, postgres"):
        choose_db(home, "oracle")


def test_the_status_of_a_postgres_home_names_its_database(tmp_path: Path) -> None:
    # given: a team-mode home whose servers are gone
    home = tmp_path / "home"
    choose_db(home, "postgres")
    # when
    status = _serve(home, "status")
    # then
    assert status.returncode == 0
    assert status.stdout.splitlines() == ["Prefect: down ", "MLflow: down ", "Database: postgres"]
