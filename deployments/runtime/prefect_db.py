"""A Prefect server's new SQLite database as a copy of a migrated empty one.

A Prefect server on a new `PREFECT_HOME` first runs Prefect's whole chain of
schema migrations: 5-15 s on a 2-core machine, paid by the first run of every
platform home (its local or temporary server) and by every test's home. The
migrated empty database is made once per Prefect version, in a subprocess, and
copied (`libs.sqlite_templates`); a database that exists is never touched, and
any failure leaves the server to migrate as it always did.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from libs.sqlite_templates import seed

from .procs import server_env

SQLITE_PREFIX = "sqlite+aiosqlite:///"
_MIGRATE = (
    "import asyncio\n"
    "from prefect.server.database import provide_database_interface\n"
    "asyncio.run(provide_database_interface().create_db())\n"
)


def _create(path: Path) -> None:
    home = path.parent / f".{path.stem}-home"
    env = server_env(
        drop=("PREFECT_API_URL", "PREFECT_API_DATABASE_CONNECTION_URL"),
        PREFECT_HOME=str(home),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"{SQLITE_PREFIX}{path}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    try:
        subprocess.run(
            [sys.executable, "-c", _MIGRATE],
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def seed_prefect_database(connection_url: str) -> bool:
    """Seed the database `connection_url` names, when it is a SQLite file not yet there."""
    if not connection_url.startswith(SQLITE_PREFIX):
        return False
    db = Path(connection_url.removeprefix(SQLITE_PREFIX).split("?", 1)[0])
    if not db.is_absolute() or db.name == ":memory:":
        return False
    return seed(db, f"prefect-{version('prefect')}", _create)


def seed_current_prefect_database() -> bool:
    """Seed the database of the Prefect settings in force (a server about to start)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url
    if url is None:
        return False
    return seed_prefect_database(url.get_secret_value())


__all__ = ["seed_current_prefect_database", "seed_prefect_database"]
