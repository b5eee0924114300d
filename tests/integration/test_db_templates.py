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
