"""The MLflow server of `make serve`: its store, its environment and its webhook key.

A new SQLite store is a copy of a migrated empty one: the server of `make serve`
(and of team mode on SQLite) would otherwise run MLflow's whole chain of schema
migrations on a new home, seconds of CPU. The template is the one the command
line's tracking client keeps (`tasks.tracking`, `libs.sqlite_templates`), made
here in a subprocess when missing, since this package does not import MLflow.
The copy's Default experiment then points where the server would have put it:
its default artifact root, or `mlflow-artifacts:/` when the server proxies
artifacts.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from libs.sqlite_templates import point_mlflow_default_experiment, seed

from . import postgres
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


def mlflow_store(home: Path, on_postgres: bool = False, shown_db: str | None = None) -> str:
    """The tracking store an MLflow server of `home` serves (its identity in servers.json)."""
    if on_postgres:
        return f"postgres:{shown_db or ''}"
    return f"sqlite:///{home.resolve() / 'mlflow.db'}"


WEBHOOK_KEY_VARIABLE = "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY"


def webhook_key(home: Path) -> str:
    """The key the MLflow server encrypts registry webhooks' secrets with, kept in the home.

    Without one, the server draws a new key at each start, and every webhook saved
    before a restart can no longer sign its deliveries (MLflow logs `InvalidToken`
    and drops them). The key is made once, readable by its owner only; a key in the
    environment wins.
    """
    given = os.environ.get(WEBHOOK_KEY_VARIABLE)
    if given:
        return given
    path = home / "mlflow-webhook.key"
    if not path.exists():
        from cryptography.fernet import Fernet

        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
        with contextlib.suppress(FileExistsError):  # another start made it first: keep theirs
            os.link(tmp, path)
        tmp.unlink()
    return path.read_text().strip()


def mlflow_env(
    destination: str, home: Path, database: postgres.Database | None = None
) -> dict[str, str]:
    """The server's environment: the allow-listed one, its webhook key and, in team mode,
    its database (never on the command line, where `ps` would show the password)."""
    # Artifacts proxied to S3 are the one case where the server needs AWS settings.
    remote = destination.startswith("s3://")
    store = {WEBHOOK_KEY_VARIABLE: webhook_key(home)}
    if database is not None:
        # In the environment, not the command line: `ps` would show a password.
        store["MLFLOW_BACKEND_STORE_URI"] = database.url("mlflow")
    env = server_env(
        extra_prefixes=("AWS_",) if remote else (),
        drop=("MLFLOW_TRACKING_URI", "MLFLOW_BACKEND_STORE_URI"),
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
    )
    return {**env, **store}


def mlflow_store_args(home: Path, on_postgres: bool = False) -> tuple[str, list[str]]:
    """The MLflow server's store: the one the command line uses without a server.

    The tracking store `<home>/mlflow.db` and the artifact root `<home>/mlartifacts`
    (`PlatformSettings`' defaults), so starting and stopping `make serve` changes
    only the URL: earlier runs, models and links stay. Clients write artifacts to
    that folder themselves (the server only listens on loopback). With
    `MLOPS_ARTIFACTS_DESTINATION` the server proxies artifacts to it instead (a
    bucket). On PostgreSQL (team mode) the backend store is passed in the
    environment instead (`mlflow_env`); the artifact root stays the same folder.
    Returns (where artifacts go, the server's arguments).
    """
    home = home.resolve()
    store = [] if on_postgres else ["--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}"]
    remote = os.environ.get("MLOPS_ARTIFACTS_DESTINATION")
    if remote:
        return remote, [*store, "--artifacts-destination", remote]
    root = (home / "mlartifacts").as_uri()
    return root, [*store, "--default-artifact-root", root, "--no-serve-artifacts"]
