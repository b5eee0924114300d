"""Move the MLflow history of the SQLite store into PostgreSQL (team mode), ids and all.

    python -m deployments.migrate [--source sqlite:///PATH] [--target postgresql://...]

Copies every table of the tracking and registry store (experiments, runs,
params, metrics, tags, datasets and inputs, logged models, registered models,
versions, aliases, traces ...) row by row, keeping every id, so run links,
`models:/NAME@champion`, version sources and the runs behind them resolve
as before. Artifacts are not copied: they stay where the runs recorded them
(`<MLOPS_HOME>/mlartifacts` or the bucket), which the served store uses too.

The source defaults to `<MLOPS_HOME>/mlflow.db` (brought to MLflow's current
schema first, as `mlflow db upgrade` would); the target to the `mlflow`
database of team mode (`MLOPS_DATABASE_URL`, else the local cluster of `make
serve DB=postgres`, started if it is down). The target must hold no runs and
no models yet; the copy is one transaction, so a failure leaves it as it was.
The Prefect server's history (flow runs, deployments) is not moved: `make
deploy` registers the deployments again on the new server.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from deployments.runtime.settings import platform_settings
from libs.errors import InputError

CHUNK = 1000
# Tables whose rows tell whether a store holds a history.
HISTORY_TABLES = ("runs", "registered_models", "logged_models")
SUMMARY_TABLES = (
    "experiments",
    "runs",
    "metrics",
    "registered_models",
    "model_versions",
    "registered_model_aliases",
)


def target_url(home: Path) -> str:
    """The `mlflow` database of team mode (the local cluster is started if it is down)."""
    from deployments.runtime import postgres
    from deployments.runtime.procs import locked
    from deployments.runtime.servers import free_port

    url = postgres.given_url()
    if url is not None:
        database = postgres.Database(url, local=False)
        postgres.create_databases(database)
    else:
        reason = postgres.missing_reason()
        if reason:
            raise InputError(f"--target: {reason}")
        with locked(home / "serve"):
            database = postgres.ensure_local(home, free_port(5432))
    return database.url("mlflow")


def _engine(url: str) -> Any:
    import sqlalchemy

    return sqlalchemy.create_engine(url, future=True)


def _rows(engine: Any, table: str) -> int:
    import sqlalchemy

    with engine.connect() as connection:
        return int(
            connection.execute(sqlalchemy.text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
        )


def check_source(url: str) -> None:
    """A one-line error for a source that is not there (before anything else starts)."""
    if not url.startswith("sqlite:///"):
        raise InputError(f"--source: expected a sqlite:/// URL, got {url!r}")
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        raise InputError(f"--source: no SQLite store at {path}")


def _prepare_source(url: str) -> Any:
    from mlflow.store.db.utils import _get_latest_schema_revision, _upgrade_db
    from sqlalchemy import inspect, text

    check_source(url)
    engine = _engine(url)
    tables = set(inspect(engine).get_table_names())
    if "alembic_version" not in tables or "runs" not in tables:
        raise InputError(f"--source: {url} is not an MLflow tracking store")
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision != _get_latest_schema_revision():
        _upgrade_db(engine)
    return engine


def _prepare_target(url: str, mlflow_tables: set[str], setting: str = "--target") -> Any:
    """The target engine on MLflow's current schema, checked to hold no history.

    `mlflow_tables` (the upgraded source's) are the tables a target may hold: a
    database with any other table belongs to something else, and MLflow's tables
    are never written beside them. A target that cannot be reached, or refuses
    the password, is one line naming `setting`, without the password.
    """
    from mlflow.store.db.utils import _initialize_tables, _upgrade_db
    from sqlalchemy import inspect
    from sqlalchemy.exc import OperationalError

    engine = _engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    except OperationalError as exc:
        from deployments.runtime.postgres import connect_failure

        reason = connect_failure(exc.orig or exc, engine.url.password)
        raise InputError(f"{setting}: cannot connect to {_shown(url)}: {reason}") from None
    foreign = sorted(tables - mlflow_tables - {"alembic_version"})
    if foreign or (tables and "experiments" not in tables):
        listed = ", ".join(foreign[:5]) + (
            f" (+{len(foreign) - 5} more)" if len(foreign) > 5 else ""
        )
        listed = listed or "alembic_version"
        raise InputError(
            f"{setting}: {_shown(url)} holds tables that are not MLflow's ({listed}): "
            "migrate into an empty database of its own"
        )
    if "alembic_version" not in tables:
        _initialize_tables(engine)
    else:
        _upgrade_db(engine)
    held = {t: _rows(engine, t) for t in HISTORY_TABLES if t in tables}
    if any(held.values()):
        counts = ", ".join(f"{n} {t}" for t, n in held.items() if n)
        raise InputError(f"--target: {_shown(url)} already holds a history ({counts}): not merged")
    return engine


def _check_port(url: str) -> None:
    """`--target`'s port is a number (else one line naming it, never the password)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (urlsplit checks the port only when asked)
    except ValueError:
        given = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise InputError(f"--target: port {given!r} is not a port number (0-65535)") from None


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def copy_store(source_url: str, target_url: str, setting: str = "--target") -> dict[str, int]:
    """Copy every row of the source store into the empty target; returns rows per table.

    `setting` names where the target came from, for its errors.
    """
    from sqlalchemy import MetaData, inspect

    source = _prepare_source(source_url)
    target = _prepare_target(target_url, set(inspect(source).get_table_names()), setting)
    source_meta, target_meta = MetaData(), MetaData()
    source_meta.reflect(source)
    target_meta.reflect(target)
    copied: dict[str, int] = {}
    with target.begin() as out, source.connect() as inp:
        # An empty store still has the Default experiment and its tags: the copy replaces them.
        for table in reversed(target_meta.sorted_tables):
            if table.name != "alembic_version":
                out.execute(table.delete())
        for table in target_meta.sorted_tables:
            if table.name == "alembic_version" or table.name not in source_meta.tables:
                continue
            columns = [c.name for c in table.columns if c.name in source_meta.tables[table.name].c]
            select = (
                source_meta.tables[table.name]
                .select()
                .with_only_columns(*(source_meta.tables[table.name].c[name] for name in columns))
            )
            result = inp.execute(select)
            count = 0
            while batch := result.fetchmany(CHUNK):
                out.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in batch])
                count += len(batch)
            copied[table.name] = count
        if target.dialect.name == "postgresql":
            _advance_sequences(out, inspect(out))
    for name, count in copied.items():  # what the target holds now, read back
        if _rows(target, name) != count:
            raise RuntimeError(
                f"{name}: copied {count} rows, the target holds {_rows(target, name)}"
            )
    return copied


def _advance_sequences(connection: Any, inspector: Any) -> None:
    """Serial ids continue after the copied ones (a new experiment gets the next id)."""
    from sqlalchemy import text

    for table in inspector.get_table_names():
        for column in inspector.get_pk_constraint(table).get("constrained_columns", []):
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table}"', "c": column}
            ).scalar()
            if sequence:
                connection.execute(
                    text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) '
                        f"+ 1, false)"
                    ),
                    {"s": sequence},
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.migrate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--source", default=None, help="default: sqlite:///<MLOPS_HOME>/mlflow.db")
    parser.add_argument("--target", default=None, help="default: team mode's mlflow database")
    args = parser.parse_args(argv)
    # MLflow announces each schema step on stderr: the outcome is this command's one line.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        home = platform_settings().home_dir
        source = args.source or f"sqlite:///{(home / 'mlflow.db').resolve()}"
        check_source(source)
        if args.target and not args.target.startswith(("postgresql", "postgres")):
            scheme = args.target.partition(":")[0]  # the URL may hold a password: not echoed
            raise InputError(f"--target: expected a postgresql:// URL, got a {scheme!r} URL")
        if args.target:
            _check_port(args.target)
        target = args.target or target_url(home)
        if target.startswith("postgresql://"):
            target = "postgresql+psycopg2://" + target.removeprefix("postgresql://")
        copied = copy_store(source, target, "--target" if args.target else "MLOPS_DATABASE_URL")
    except (InputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{copied.get(t, 0)} {t}" for t in SUMMARY_TABLES)
    print(f"Copied {source} into {_shown(target)}: {counts}.")
    print("Start the servers on it with: make serve DB=postgres")
    return 0


if __name__ == "__main__":
    sys.exit(main())
