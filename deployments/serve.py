"""`make serve`: a local Prefect server and MLflow server on loopback, kept lean.

    python -m deployments.serve [start|stop|status|logins] [--prefect-port 4200]
                                [--mlflow-port 5000] [--db sqlite|postgres]

Both run in the background with their state under `<MLOPS_HOME>/serve/`
(logs, pids, databases); `servers.json` there records their URLs so that
`python -m flows.train`, `make deploy` and `make worker` find them with no
other setting. MLflow artifacts go to `MLOPS_ARTIFACTS_DESTINATION` (for
example `s3://bucket/prefix/mlartifacts`, with AWS credentials in the
environment) or a local folder, served through the MLflow server.

`--db postgres` (team mode, `make serve DB=postgres`) runs both servers on
PostgreSQL: `MLOPS_DATABASE_URL` when set, else a local cluster under
`<MLOPS_HOME>/serve/postgres/` that `stop` stops too
(`deployments.runtime.postgres`). The choice is kept for later starts;
`--db sqlite` goes back. `python -m deployments.migrate` copies an existing
SQLite history into PostgreSQL. Team mode's servers ask for a login
(`deployments.runtime.team_auth`): `logins` prints them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deployments.runtime import postgres, team_auth
from deployments.runtime.servers import (
    DBS,
    Served,
    choose_db,
    chosen_db,
    healthy,
    servers_file,
    start,
    stop,
)
from deployments.runtime.settings import platform_settings
from libs.errors import InputError

__all__ = ["Served", "main", "start", "stop"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "action", nargs="?", default="start", choices=["start", "stop", "status", "logins"]
    )
    parser.add_argument("--prefect-port", type=int, default=4200)
    parser.add_argument("--mlflow-port", type=int, default=5000)
    parser.add_argument(
        "--db",
        choices=DBS,
        default=None,
        help="the servers' database (default: the last choice, else sqlite)",
    )
    args = parser.parse_args(argv)
    try:
        home = platform_settings().home_dir
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.action == "stop":
        stopped = stop(home)
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        return 0
    if args.action == "logins":
        return _logins(home)
    if args.action == "status":
        path = servers_file(home)
        info = json.loads(path.read_text()) if path.is_file() else {}
        for name, key, suffix in (
            ("Prefect", "prefect_api_url", "/health"),
            ("MLflow", "mlflow_url", "/health"),
        ):
            url = info.get(key)
            state = "up" if url and healthy(url + suffix) else "down"
            print(f"{name}: {state} {url or ''}")
        if info.get("db", chosen_db(home)) == "postgres":  # team mode; SQLite goes unsaid
            print(f"Database: postgres {info.get('database', '')}".rstrip())
        return 0
    db = args.db or chosen_db(home)
    if db == "postgres":
        try:
            reason = postgres.missing_reason()
            postgres.given_url()
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if reason:
            print(f"error: --db postgres: {reason}", file=sys.stderr)
            return 2
    try:
        served = start(home, args.prefect_port, args.mlflow_port, db=db)
        choose_db(home, db)
    except InputError as exc:  # MLOPS_DATABASE_URL unreachable or refusing: before any server
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        "\n".join(
            [
                "Servers are up (stop them with: make serve-stop).",
                f"  Prefect UI:   {served.ui_url}",
                f"  Prefect API:  {served.prefect_api_url}",
                f"  MLflow UI:    {served.mlflow_url}",
                f"  Database:     {_database_line(served)}",
                f"  State:        {home / 'serve'}",
                *(
                    [f"  Logins:       python -m deployments.serve logins (kept in {path})"]
                    if (path := team_auth.auth_file(home)).is_file() and served.db == "postgres"
                    else []
                ),
                "python -m flows.train, make deploy and make worker now use them.",
            ]
        )
    )
    return 0


def _logins(home: Path) -> int:
    """Print team mode's logins: the owner of the home gives them to people."""
    auth = team_auth.load(home)
    if auth is None:
        print(
            f"error: no logins in {team_auth.auth_file(home)}: team mode makes them "
            "(python -m deployments.serve start --db postgres)",
            file=sys.stderr,
        )
        return 2
    print(
        "\n".join(
            [
                f"Team mode's logins (kept in {team_auth.auth_file(home)}, readable by you only):",
                f"  Prefect UI and API:  {auth.prefect.pair}",
                "      (the UI asks for it; clients: PREFECT_API_AUTH_STRING)",
                f"  MLflow, platform:    {auth.platform.username} / {auth.platform.password}",
                "      (the gate's account: trains, registers, moves @champion; MLflow's admin)",
                f"  MLflow, reader:      {auth.reader.username} / {auth.reader.password}",
                "      (for people: reads every experiment, run and model, moves no alias;",
                "       clients: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)",
            ]
        )
    )
    return 0


def _database_line(served: Served) -> str:
    if served.db == "sqlite":
        return "SQLite (make serve DB=postgres for PostgreSQL)"
    info = json.loads(servers_file(served.home).read_text())
    return f"PostgreSQL {info.get('database', '')}".rstrip()


if __name__ == "__main__":
    sys.exit(main())
