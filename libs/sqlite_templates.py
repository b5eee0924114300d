"""New SQLite stores copied from a migrated empty one, instead of migrated each time.

A fresh platform home needs two SQLite databases: MLflow's tracking store and
the Prefect server's. Each is created by running its library's whole chain of
schema migrations, which costs seconds of CPU (MLflow about 3 s, Prefect about
5-15 s on a 2-core machine), on every new home: the first run of every user's
project, every test's temporary home.

The result of those migrations is the same empty schema each time for one
version of the library. So it is made once, in a per-user cache folder, keyed
by the library and its version, and a new store is a copy of it. A store that
exists is never touched; where anything goes wrong (no cache folder, a failed
migration, a race) the caller falls back to creating the store as before.

Standard library only: the Prefect server's entry point imports this before Prefect.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

CACHE_ENV = "MLOPS_CACHE_DIR"


def cache_dir() -> Path:
    """Where templates are kept: `MLOPS_CACHE_DIR`, else the user's cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "mlops-platform" / "db-templates"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _safe_key(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


def template(key: str, create: Callable[[Path], None]) -> Path:
    """The template for `key`, made by `create(path)` under a lock the first time."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_safe_key(key)}.db"
    if path.is_file():
        return path
    with _locked(folder):
        if path.is_file():  # another process made it while this one waited
            return path
        work = folder / f".{path.stem}.{os.getpid()}.tmp.db"
        try:
            create(work)
            if not work.is_file() or work.stat().st_size == 0:
                raise OSError(f"no database was written to {work}")
            os.replace(work, path)
        finally:
            for leftover in (work, *(work.with_name(work.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
    return path


def seed(db: Path, key: str, create: Callable[[Path], None]) -> bool:
    """Put a copy of `key`'s template at `db` when no database is there; True when done.

    Never replaces a database: the copy is linked into place only if `db` does
    not exist at that moment (two processes seeding one home cannot swap a file
    under a server that has opened it). Any failure leaves `db` absent, so the
    caller's library creates it as it always did.
    """
    if any(db.with_name(db.name + s).exists() for s in ("", "-wal", "-shm", "-journal")):
        return False
    work = db.with_name(f".{db.name}.{os.getpid()}.seed")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(key, create), work)
        os.link(work, db)  # fails if the database appeared meanwhile
        return True
    except Exception as exc:  # an optimisation only: the library creates the store instead
        if os.environ.get("MLOPS_DEBUG_TEMPLATES"):
            print(f"note: no database template for {key} ({exc})", file=sys.stderr)
        return False
    finally:
        work.unlink(missing_ok=True)


def point_mlflow_default_experiment(db: Path, location: str) -> None:
    """In a copied MLflow tracking store, what MLflow writes when it creates one itself:
    the Default experiment's artifact location and its creation time."""
    now = int(time.time() * 1000)
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        con.execute(
            "UPDATE experiments SET artifact_location = ?, creation_time = ?,"
            " last_update_time = ? WHERE experiment_id = 0",
            (location, now, now),
        )


__all__ = ["CACHE_ENV", "cache_dir", "point_mlflow_default_experiment", "seed", "template"]
