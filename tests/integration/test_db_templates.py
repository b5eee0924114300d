"""A new home's Prefect database is a copy of a migrated empty one (deployments.runtime.prefect_db).

The suite itself runs every flow test on Prefect servers whose databases were
seeded this way; this checks the seeding's own decisions.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from deployments.runtime.prefect_db import seed_prefect_database


def test_a_new_sqlite_database_is_seeded_with_prefects_migrated_schema(tmp_path: Path) -> None:
    db = tmp_path / "home" / "prefect.db"
    assert seed_prefect_database(f"sqlite+aiosqlite:///{db}")
    with sqlite3.connect(db) as con:
        (version,) = con.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version  # migrated to Prefect's head
    assert {"flow", "flow_run", "task_run", "deployment", "block_document"} <= tables
    # an existing database is left alone
    before = db.stat().st_mtime_ns
    assert not seed_prefect_database(f"sqlite+aiosqlite:///{db}")
    assert db.stat().st_mtime_ns == before


def test_databases_that_are_not_new_sqlite_files_are_not_seeded(tmp_path: Path) -> None:
    assert not seed_prefect_database("postgresql+asyncpg://u:p@127.0.0.1:5432/prefect")
    assert not seed_prefect_database("sqlite+aiosqlite:///relative.db")
    assert not seed_prefect_database("sqlite+aiosqlite:///:memory:")
    assert not (Path.cwd() / "relative.db").exists()


def test_a_new_mlflow_server_store_is_seeded_where_the_server_puts_artifacts(
    tmp_path: Path,
) -> None:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from deployments.runtime.mlflow_server import seed_mlflow_server_store

    root = (tmp_path / "mlartifacts").as_uri()
    db = tmp_path / "home" / "mlflow.db"
    args = ["--backend-store-uri", f"sqlite:///{db}", "--default-artifact-root", root]
    assert seed_mlflow_server_store(args)
    store = SqlAlchemyStore(f"sqlite:///{db}", root)
    assert store.get_experiment("0").artifact_location == f"{root}/0"
    assert not seed_mlflow_server_store(args)  # never over an existing store
    proxied = tmp_path / "proxied" / "mlflow.db"
    args = ["--backend-store-uri", f"sqlite:///{proxied}", "--artifacts-destination", "s3://b/p"]
    assert seed_mlflow_server_store(args)
    store = SqlAlchemyStore(f"sqlite:///{proxied}", "mlflow-artifacts:/")
    assert store.get_experiment("0").artifact_location == "mlflow-artifacts:/0"
    assert not seed_mlflow_server_store(["--backend-store-uri", "postgresql://u@h/db"])
