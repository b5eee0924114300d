"""The platform's local servers: start them in the background, find them, stop them.

`make serve` starts a Prefect server and an MLflow server; a command line run
with nothing configured starts (once) a Prefect server alone and later runs
reuse it, instead of paying Prefect's temporary server start and stop on every
run. Both record their URLs in `<MLOPS_HOME>/serve/servers.json`, which
`discover` reads; `stop` (`make serve-stop`) ends whatever was started.

Starting is done under the state folder's lock (`procs.locked`): any number of
commands that start at once on a fresh folder start one server and all use it.
A server gets only the environment it needs (`procs.server_env`): no cloud
credentials of the command that started it.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import deployments.runtime.postgres as postgres
import deployments.runtime.team_auth as team_auth
from deployments.runtime.links import (
    SERVERS_FILE,
    live_flow_run_url,
    live_run_url,
    mlflow_answers,
    prefect_answers,
    recorded,
    run_page,
    servers_file,
)
from deployments.runtime.mlflow_server import (
    mlflow_env,
    mlflow_store,
    mlflow_store_args,
    seed_mlflow_server_store,
)
from deployments.runtime.prefect_server import port_of as _port_of
from deployments.runtime.prefect_server import prefect_env as _prefect_env
from deployments.runtime.procs import alive, end, locked, recorded_pid, spawn
from deployments.runtime.server_health import (
    discover,
    free_port,
    healthy,
    up_or_starting,
    wait_healthy,
)

# The database chosen by the last `serve start --db ...`: later starts keep it.
DATABASE_FILE = Path("serve") / "database.json"
DBS = ("sqlite", "postgres")
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Served:
    """URLs of running servers (mlflow_url is None when only Prefect was started).

    `began` names the servers this call started (the others were running or
    starting already): only those are the caller's to undo.
    """

    prefect_api_url: str
    mlflow_url: str | None
    home: Path
    began: tuple[str, ...] = ()
    db: str = "sqlite"

    @property
    def ui_url(self) -> str:
        return self.prefect_api_url.removesuffix("/api")


def chosen_db(home: Path) -> str:
    """The database of the servers: the last `serve start --db`'s, else PostgreSQL when
    `MLOPS_DATABASE_URL` is set, else SQLite."""
    try:
        db = json.loads((home / DATABASE_FILE).read_text()).get("db")
    except (OSError, ValueError, AttributeError):
        db = None
    if db in DBS:
        return str(db)
    return "postgres" if os.environ.get("MLOPS_DATABASE_URL") else "sqlite"


def choose_db(home: Path, db: str) -> None:
    """Record `db` as the servers' database for later starts (`serve start --db`)."""
    if db not in DBS:
        raise ValueError(f"--db: expected one of {', '.join(DBS)}, got {db!r}")
    path = home / DATABASE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"db": db}))
    os.replace(tmp, path)


def _database(home: Path) -> tuple[postgres.Database, bool]:
    """The PostgreSQL of team mode, started if it is the local cluster; (it, began it)."""
    url = postgres.given_url()
    if url is not None:
        database = postgres.Database(url, local=False)
        postgres.create_databases(database)
        return database, False
    folder = postgres.folder_of(home)
    pid = recorded_pid(folder, "postgres")
    was_up = pid is not None and alive(pid)
    return postgres.ensure_local(home, free_port(5432)), not was_up


def begin(
    home: Path,
    prefect_port: int = 4200,
    mlflow_port: int | None = 5000,
    db: str | None = None,
) -> Served:
    """Start the servers that are neither up nor starting, without waiting for them.

    Their URLs are recorded at once; `start` (or `discover`, once they answer)
    picks them up. A command calls this first thing, so that a server's start
    overlaps the command's own imports instead of preceding them. Under the
    folder's lock, so concurrent callers start each server once.
    """
    folder = home / "serve"
    with locked(folder):
        return _begin_locked(home, folder, prefect_port, mlflow_port, db or chosen_db(home))


def _begin_locked(
    home: Path, folder: Path, prefect_port: int, mlflow_port: int | None, db: str
) -> Served:
    known = recorded(home)
    began: list[str] = []
    running_db = known.get("db", "sqlite")
    if known and running_db != db and discover(home) is not None:
        raise RuntimeError(
            f"the servers run on {running_db}, not {db}: stop them first (make serve-stop)"
        )
    database: postgres.Database | None = None
    if db == "postgres":
        database, began_db = _database(home)
        if began_db:
            began.append("postgres")
    # Team servers ask for logins (team_auth); servers started otherwise, or with
    # logins since lost, are replaced.
    kept = team_auth.load(home) is not None
    auth = team_auth.ensure(home) if db == "postgres" else None
    if bool(known.get("auth")) != (auth is not None) or (auth is not None and not kept):
        known = {k: v for k, v in known.items() if k not in ("prefect_api_url", "mlflow_url")}
    prefect_api = known.get("prefect_api_url")
    if prefect_api and not up_or_starting(f"{prefect_api}/health", folder, "prefect"):
        prefect_api = None
    if not prefect_api:
        end(folder, "prefect")  # a recorded server that no longer answers
        prefect_api = f"http://127.0.0.1:{free_port(prefect_port)}/api"
        (folder / "prefect").mkdir(exist_ok=True)
        port = prefect_api.rsplit(":", 1)[1].removesuffix("/api")
        # `prefect server start` with SQLite writes that wait for the lock (module doc)
        argv = [sys.executable, "-m", "deployments.runtime.prefect_server"]
        argv += ["--host", "127.0.0.1", "--port", port]
        spawn("prefect", argv, _prefect_env(folder, prefect_api, database, auth), folder)
        began.append("prefect")
    mlflow_url = known.get("mlflow_url")
    if mlflow_url and not up_or_starting(f"{mlflow_url}/health", folder, "mlflow"):
        mlflow_url = None
    if mlflow_port is not None and not mlflow_url:
        end(folder, "mlflow")
        mlflow_url = f"http://127.0.0.1:{free_port(mlflow_port)}"
        port = mlflow_url.rsplit(":", 1)[1]
        destination, store_args = mlflow_store_args(home, on_postgres=database is not None)
        argv = [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", port]
        argv += ["--workers", "1", *store_args]
        env = mlflow_env(destination, home, database)
        if auth is not None:
            argv += team_auth.MLFLOW_APP_ARGS
            env.update(team_auth.mlflow_server_env(home, auth))
        seed_mlflow_server_store(store_args)  # a new home's store, without its migrations
        spawn("mlflow", argv, env, folder)
        began.append("mlflow")
    served = Served(prefect_api, mlflow_url, home, tuple(began), db)
    info: dict[str, Any] = {
        "prefect_api_url": served.prefect_api_url,
        "prefect_port": int(_port_of(served.prefect_api_url)),
        "mlflow_url": served.mlflow_url,
        "db": db,
        "auth": auth is not None,
    }
    if database is not None:
        info["database"] = database.shown
    if served.mlflow_url:  # its identity: the store it serves
        info["mlflow_store"] = mlflow_store(
            home, database is not None, database.shown if database else None
        )
    _record(home, info)
    return served


def _record(home: Path, info: dict[str, Any]) -> None:
    """Write servers.json whole (temp file, then rename): readers never see half of it."""
    path = servers_file(home)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


def start(
    home: Path,
    prefect_port: int = 4200,
    mlflow_port: int | None = 5000,
    timeout: float = 120,
    db: str | None = None,
) -> Served:
    """Start the servers (or reuse running or starting ones) and wait until they answer.

    `mlflow_port=None` starts Prefect only (runs then log to MLflow on SQLite).
    `db` ("sqlite" or "postgres") picks the servers' database; None keeps the
    last choice (`chosen_db`).
    """
    served = begin(home, prefect_port, mlflow_port, db)
    folder = home / "serve"
    wait_healthy(f"{served.prefect_api_url}/health", "prefect", folder, timeout)
    if served.mlflow_url:
        wait_healthy(f"{served.mlflow_url}/health", "mlflow", folder, timeout)
    auth = team_auth.log_in(home) if recorded(home).get("auth") else None
    if auth is not None and served.mlflow_url:
        team_auth.ensure_reader(served.mlflow_url, auth)
    return served


def stop(home: Path) -> list[str]:
    """Stop the servers started by `start`, the warm worker and the local PostgreSQL.

    Returns the names stopped.
    """
    import deployments.runtime.warm as warm  # the worker's module: `python -m` runs it

    folder = home / "serve"
    if not folder.is_dir():
        return []
    with locked(folder):
        stopped = [name for name in ("prefect", "mlflow") if end(folder, name)]
        if warm.stop(home):
            stopped.append("warm worker")
        if postgres.stop_local(home):  # last: the servers above held its connections
            stopped.append("postgres")
        servers_file(home).unlink(missing_ok=True)
    return stopped


def undo(served: Served) -> None:
    """Stop the servers `begin` started for a command that then failed on bad input."""
    folder = served.home / "serve"
    with locked(folder):
        for name in served.began:
            if name == "postgres":
                postgres.stop_local(served.home)
            else:
                end(folder, name)
        others = {"mlflow"} if recorded(served.home).get("mlflow_url") else set()
        if not others - set(served.began):  # nothing recorded that another started
            servers_file(served.home).unlink(missing_ok=True)


__all__ = [
    "DATABASE_FILE",
    "DBS",
    "SERVERS_FILE",
    "Served",
    "begin",
    "choose_db",
    "chosen_db",
    "discover",
    "free_port",
    "healthy",
    "live_flow_run_url",
    "live_run_url",
    "mlflow_answers",
    "mlflow_store",
    "mlflow_store_args",
    "prefect_answers",
    "recorded",
    "run_page",
    "servers_file",
    "start",
    "stop",
    "undo",
]
