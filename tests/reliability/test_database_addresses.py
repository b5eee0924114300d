"""Bad database addresses in team mode (issue 36): one line naming the setting, exit 2,
never the password; `migrate` never writes MLflow's tables into another application's database.

Before: `MLOPS_DATABASE_URL` with a non-numeric or unreachable port or a wrong
password, and `migrate --target` unreachable or with a wrong password, ended in
tracebacks (exit 1); `migrate` echoed the target URL with its password; `migrate`
into a database holding other tables wrote 65 MLflow tables beside them (exit 0).

`python -m deployments.serve start --db postgres` and `python -m deployments.migrate`
run as a user runs them; the wrong-password and foreign-table cases use a real
PostgreSQL cluster (the platform's own local one, started once for the module).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cli_support import run_cli
from mlflow import MlflowClient

from deployments.runtime import postgres
from deployments.runtime.servers import free_port, stop

SECRET = "s3cret-Pw-never-shown"
SERVE = ("deployments.serve", "start", "--db", "postgres", "--prefect-port", "0")


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Path, str]]:
    """The local cluster of a team-mode home (its superuser's URL), stopped after."""
    reason = postgres.missing_reason()
    if reason:
        pytest.skip(f"team mode on PostgreSQL cannot run here: {reason}")
    # As root the cluster runs as `postgres`, which cannot enter pytest's private folders.
    base = Path(tempfile.mkdtemp(prefix="mlops-dbaddr-"))
    os.chmod(base, 0o755)
    home = base / "home"
    try:
        database = postgres.ensure_local(home, free_port(0))
        yield home, database.base
    finally:
        postgres.stop_local(home)
        stop(home)
        shutil.rmtree(base, ignore_errors=True)


def with_password(base: str, password: str, database: str = "") -> str:
    parts = urlsplit(base)
    return f"postgresql://{parts.username}:{password}@{parts.hostname}:{parts.port}/{database}"


def sqlite_home(tmp_path: Path) -> Path:
    """A home with an MLflow store on SQLite: what `migrate` copies from."""
    home = tmp_path / "home"
    home.mkdir()
    MlflowClient(f"sqlite:///{home / 'mlflow.db'}").search_experiments()
    return home


def check_one_line(result, pattern: str) -> None:  # type: ignore[no-untyped-def]
    import re

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    assert re.search(pattern, lines[0]), lines[0]
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "port, pattern",
    [
        ("abc", r"MLOPS_DATABASE_URL: port 'abc' is not a port number"),
        ("closed", r"MLOPS_DATABASE_URL: cannot connect to postgresql://mlops@127\.0\.0\.1:\d+/: "),
    ],
)
def test_serve_start_with_a_bad_database_url_is_one_line_before_any_server(
    port: str, pattern: str, tmp_path: Path
) -> None:
    # given: a URL whose port is not a number, or where nothing listens
    number = str(free_port(0)) if port == "closed" else port
    url = f"postgresql://mlops:{SECRET}@127.0.0.1:{number}/"
    home = tmp_path / "home"
    # when
    result = run_cli(home, *SERVE, MLOPS_DATABASE_URL=url, timeout=120)
    # then: the setting named, no password, no server started
    check_one_line(result, pattern)
    assert not (home / "serve" / "servers.json").exists()
    assert not list(home.glob("serve/*.pid"))


@pytest.mark.slow
def test_serve_start_with_a_wrong_password_is_one_line(
    cluster: tuple[Path, str], tmp_path: Path
) -> None:
    # given: the cluster's address with a password it does not accept
    _, base = cluster
    home = tmp_path / "home"
    # when
    result = run_cli(home, *SERVE, MLOPS_DATABASE_URL=with_password(base, SECRET), timeout=120)
    # then
    check_one_line(
        result,
        r"MLOPS_DATABASE_URL: cannot connect to postgresql://mlops@127\.0\.0\.1:\d+/: .*"
        r"password authentication failed",
    )
    assert not (home / "serve" / "servers.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["closed-port", "bad-port", "wrong-password", "not-postgres"])
def test_migrate_to_a_bad_target_is_one_line_without_the_password(
    case: str, cluster: tuple[Path, str], tmp_path: Path
) -> None:
    # given: a SQLite history and a target that cannot be used
    _, base = cluster
    home = sqlite_home(tmp_path)
    target, pattern = {
        "closed-port": (
            f"postgresql://mlops:{SECRET}@127.0.0.1:{free_port(0)}/mlflow",
            r"--target: cannot connect to postgresql\+psycopg2://mlops:\*\*\*@127\.0\.0\.1:\d+"
            r"/mlflow: .*(refused|failed)",
        ),
        "bad-port": (
            f"postgresql://mlops:{SECRET}@127.0.0.1:abc/mlflow",
            r"--target: port 'abc' is not a port number",
        ),
        "wrong-password": (
            with_password(base, SECRET, "mlflow"),
            r"--target: cannot connect to .*password authentication failed",
        ),
        "not-postgres": (
            f"mysql://mlops:{SECRET}@127.0.0.1/mlflow",
            r"--target: expected a postgresql:// URL, got a 'mysql' URL",
        ),
    }[case]
    # when
    result = run_cli(home, "deployments.migrate", "--target", target, timeout=180)
    # then
    check_one_line(result, pattern)


@pytest.mark.slow
def test_migrate_with_a_bad_database_url_names_the_setting(tmp_path: Path) -> None:
    # given: no --target, so team mode's MLOPS_DATABASE_URL, with a port that is not a number
    home = sqlite_home(tmp_path)
    url = f"postgresql://mlops:{SECRET}@127.0.0.1:5x32/"
    # when
    result = run_cli(home, "deployments.migrate", MLOPS_DATABASE_URL=url, timeout=180)
    # then
    check_one_line(result, r"MLOPS_DATABASE_URL: port '5x32' is not a port number")


@pytest.mark.slow
def test_migrate_refuses_a_database_that_holds_other_tables(
    cluster: tuple[Path, str], tmp_path: Path
) -> None:
    import psycopg2

    # given: another application's database (one table of its own) on the cluster
    _, base = cluster
    parts = urlsplit(base)
    postgres.create_databases(postgres.Database(base, local=True), ("crm",))
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        dbname="crm",
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS customers (id integer PRIMARY KEY)")
    home = sqlite_home(tmp_path)
    # when
    result = run_cli(home, "deployments.migrate", "--target", f"{base}crm", timeout=180)
    # then: refused, and nothing of MLflow's written beside the application's table
    check_one_line(result, r"--target: .*/crm holds tables that are not MLflow's \(customers\)")
    assert parts.password not in result.stdout + result.stderr
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert [row[0] for row in cursor.fetchall()] == ["customers"]
    connection.close()
