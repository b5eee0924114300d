"""The PostgreSQL of team mode: a URL the user gives, or a local cluster under the state folder.

`python -m deployments.serve start --db postgres` runs the Prefect server and
the MLflow server on PostgreSQL, one database each (`prefect`, `mlflow`).
With `MLOPS_DATABASE_URL` (`postgresql://user:password@host:port/`) those
databases live on that server (created when missing and the user may);
without it the platform creates a cluster of its own from Debian's
`postgresql` binaries in `<MLOPS_HOME>/serve/postgres/` (initdb, a free
loopback port), started by `serve start` and stopped by `serve stop`. Other
users of the machine cannot get in: TCP connections need the superuser's
password, generated at initdb and kept in `password` there (mode 0600), and
the socket in that folder admits its owner only.

PostgreSQL refuses to run as root: the cluster's user, initdb and the server
process are `deployments.runtime.postgres_cluster`'s.

Standard library only at import time: psycopg2 is imported when a database is
created.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from deployments.runtime.postgres_cluster import (
    PASSWORD_FILE,
    SUPERUSER,
    cluster_owner,
    complete,
    initdb,
    let_in,
    reachable,
    start_server,
)
from deployments.runtime.procs import alive, recorded_pid
from libs.errors import InputError

DATABASES = ("prefect", "mlflow")
STOP_SECONDS = 30.0
_BIN_GLOB = "/usr/lib/postgresql/*/bin"


@dataclass(frozen=True)
class Database:
    """Where the servers' databases are: `base` is `postgresql://...` without a database."""

    base: str
    local: bool

    def url(self, name: str, driver: str = "psycopg2") -> str:
        """SQLAlchemy URL of database `name` (`asyncpg` for Prefect, `psycopg2` for MLflow)."""
        parts = urlsplit(self.base)
        return urlunsplit((f"postgresql+{driver}", parts.netloc, f"/{name}", parts.query, ""))

    @property
    def shown(self) -> str:
        """The base URL without its password, for messages."""
        parts = urlsplit(self.base)
        netloc = parts.netloc.rpartition("@")
        user = netloc[0].split(":")[0]
        host = f"{user}@{netloc[2]}" if netloc[1] else netloc[2]
        return urlunsplit((parts.scheme, host, "/", "", ""))


def binaries() -> Path | None:
    """The folder of `initdb` and `postgres`: on PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "postgres").is_file():
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for folder in reversed(versions):
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def missing_reason() -> str | None:
    """Why team mode cannot run here (a sentence), or None when it can."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install 'mlops-platform[postgres]')"
    if importlib.util.find_spec("flask_wtf") is None:  # MLflow's basic-auth app (team_auth)
        return "Flask-WTF is not installed (pip install 'mlops-platform[postgres]')"
    if os.environ.get("MLOPS_DATABASE_URL"):
        return None
    if binaries() is None:
        return "no PostgreSQL binaries (initdb, postgres): apt-get install postgresql"
    return None


def folder_of(home: Path) -> Path:
    return home / "serve" / "postgres"


def given_url() -> str | None:
    """`MLOPS_DATABASE_URL`, checked: a postgresql:// URL naming a host."""
    url = os.environ.get("MLOPS_DATABASE_URL")
    if not url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise InputError(
            "MLOPS_DATABASE_URL: expected postgresql://user:password@host:port/, "
            f"got scheme {parts.scheme or '(none)'!r}"
        )
    try:
        parts.port  # noqa: B018  (urlsplit checks the port only when asked)
    except ValueError:
        given = parts.netloc.rpartition("@")[2].rpartition(":")[2]  # never the password
        raise InputError(
            f"MLOPS_DATABASE_URL: port {given!r} is not a port number (0-65535); "
            "expected postgresql://user:password@host:port/"
        ) from None
    return urlunsplit(("postgresql", parts.netloc, "/", parts.query, ""))


def connect_failure(exc: BaseException, password: str | None) -> str:
    """The driver's reason a connection failed, on one line and without the password."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = "; ".join(lines[:2]) or type(exc).__name__
    return reason.replace(password, "***") if password else reason


def _info(folder: Path) -> dict[str, object]:
    try:
        info = json.loads((folder / "cluster.json").read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _ready(folder: Path, port: int) -> bool:
    """Whether the cluster accepts connections on its socket (pg_isready)."""
    bin_dir = binaries()
    if bin_dir is None:
        return False
    probe = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", str(folder), "-p", str(port), "-U", SUPERUSER],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def ensure_local(home: Path, port: int, timeout: float = 60) -> Database:
    """Create the local cluster if needed, start it if it is down; wait until it answers.

    Called under the state folder's start lock (`servers.begin`).
    """
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL binaries (initdb, postgres): apt-get install postgresql")
    folder = folder_of(home)
    data = folder / "data"
    owner = cluster_owner()
    folder.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        let_in(folder.parent)  # the warm worker keeps serve/ to its owner (0700)
        if not reachable(folder, owner):
            raise RuntimeError(
                f"PostgreSQL runs as user {owner.pw_name!r} here (not as root), and that user "
                f"cannot reach {folder}: put MLOPS_HOME under a folder other users may enter"
            )
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    if not complete(folder):
        initdb(bin_dir, folder, data, owner)
    info = _info(folder)
    known_port = info.get("port")
    pid = recorded_pid(folder, "postgres")
    if isinstance(known_port, int) and pid is not None and alive(pid):
        port = known_port
    else:
        start_server(bin_dir, folder, data, port, owner)
    _wait_ready(folder, port, timeout)
    database = local_database(home)
    if database is None:  # complete() saw the password file: removed since
        raise RuntimeError(f"the PostgreSQL cluster in {folder} has no password file")
    create_databases(database)
    return database


def local_database(home: Path) -> Database | None:
    """The local cluster's URL (with its password), when one was created and started."""
    folder = folder_of(home)
    port = _info(folder).get("port")
    try:
        password = (folder / PASSWORD_FILE).read_text().strip()
    except OSError:
        return None
    if not isinstance(port, int):
        return None
    return Database(f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/", local=True)


def _wait_ready(folder: Path, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ready(folder, port):
            return
        pid = recorded_pid(folder, "postgres")
        if pid is None or not alive(pid):
            break
        time.sleep(0.2)
    tail = (folder / "postgres.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{port}:\n{tail}")


def create_databases(database: Database, names: tuple[str, ...] = DATABASES) -> None:
    """Create the servers' databases that do not exist yet."""
    try:
        import psycopg2
    except ImportError:
        raise RuntimeError(
            "team mode needs psycopg2: pip install 'mlops-platform[postgres]'"
        ) from None
    parts = urlsplit(database.base)
    try:
        connection = psycopg2.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname="postgres",
            connect_timeout=10,
        )
    except psycopg2.OperationalError as exc:
        reason = connect_failure(exc, parts.password)
        if database.local:  # the platform's own cluster: not something the user typed
            raise RuntimeError(f"cannot connect to {database.shown}: {reason}") from None
        raise InputError(
            f"MLOPS_DATABASE_URL: cannot connect to {database.shown}: {reason}"
        ) from None
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def stop_local(home: Path, timeout: float = STOP_SECONDS) -> bool:
    """Stop the local cluster (fast shutdown); True when it was running. Leaves no process."""
    folder = folder_of(home)
    pid = recorded_pid(folder, "postgres")
    if pid is None:
        return False
    running = alive(pid)
    if running:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGINT)  # fast shutdown: ends the sessions, then exits
        from deployments.runtime.procs import end

        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        end(folder, "postgres", timeout=5)  # reaps it, or kills the group if it hangs
    (folder / "postgres.pid").unlink(missing_ok=True)
    return running


__all__ = [
    "DATABASES",
    "Database",
    "binaries",
    "connect_failure",
    "create_databases",
    "ensure_local",
    "folder_of",
    "given_url",
    "local_database",
    "missing_reason",
    "stop_local",
]
