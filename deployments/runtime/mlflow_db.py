"""An MLflow server's new SQLite store as a copy of a migrated empty one.

The server of `make serve` (and of team mode on SQLite) would otherwise run
MLflow's whole chain of schema migrations on a new home: seconds of CPU. The
template is the one the command line's tracking client keeps
(`tasks.tracking`, `libs.sqlite_templates`), made here in a subprocess when
missing, since this package does not import MLflow. The copy's Default
experiment then points where the server would have put it: its default
artifact root, or `mlflow-artifacts:/` when the server proxies artifacts.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from libs.sqlite_templates import point_mlflow_default_experiment, seed

from .procs import server_env

_CREATE = (
    "import sys\n"
    "from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH as root\n"
    "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore\n"
    "SqlAlchemyStore('sqlite:///' + sys.argv[1], root).engine.dispose()\n"
)


def _create(path: Path) -> None:
    subprocess.run(
        [sys.executable, "-c", _CREATE, str(path)],
        env=server_env(),
        cwd=path.parent,
        check=True,
        capture_output=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args[:-1]):
        if arg == name:
            return args[i + 1]
    return None


def seed_mlflow_server_store(server_args: list[str]) -> bool:
    """Seed the SQLite store an `mlflow server` with `server_args` will open; True when done."""
    backend = _option(server_args, "--backend-store-uri") or ""
    if not backend.startswith("sqlite:///"):
        return False
    db = Path(backend.removeprefix("sqlite:///"))
    if not db.is_absolute():
        return False
    root = _option(server_args, "--default-artifact-root")
    if root is None:
        if "--artifacts-destination" not in server_args:
            return False  # the server's own default root: leave the store to it
        root = "mlflow-artifacts:/"
    if not seed(db, f"mlflow-{version('mlflow')}", _create):
        return False
    point_mlflow_default_experiment(db, f"{root.rstrip('/')}/0")
    return True


__all__ = ["seed_mlflow_server_store"]
