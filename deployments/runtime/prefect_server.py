"""`prefect server start`, with write transactions that wait for SQLite's lock.

The local Prefect server keeps its state in SQLite (WAL mode, `busy_timeout`
60 s). Prefect opens its write transactions as `BEGIN DEFERRED` unless a
caller asks for a row lock, so a transaction that reads and then writes has to
upgrade its read lock; when another connection wrote in between, SQLite
answers `database is locked` at once (`SQLITE_BUSY_SNAPSHOT`: the busy timeout
does not apply to an upgrade). The API turns that into a 503 and the client
backs off 1, 2, 4, 8 s: the 7-17 s stalls of concurrent sweep points (issue
20; Prefect issues #10188 and #18934).

`BEGIN IMMEDIATE` takes the write lock when the transaction starts, so a
second writer waits (up to the busy timeout, milliseconds in practice) instead
of failing. Only Prefect's SQLite configuration is changed, and only in this
process: a server on PostgreSQL is untouched. The app is also closed to web
pages and foreign host names (`deployments.runtime.local_only`); `prefect_env` is
the environment the platform starts it with (in team mode: its database and its
login, `deployments.runtime.team_auth`). Run as

    python -m deployments.runtime.prefect_server [prefect server start arguments]
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployments.runtime.local_only import own_origins
from deployments.runtime.prefect_db import seed_current_prefect_database
from deployments.runtime.procs import server_env
from deployments.runtime.team_auth import prefect_server_env

if TYPE_CHECKING:
    from deployments.runtime.postgres import Database
    from deployments.runtime.team_auth import TeamAuth


def immediate_sqlite_writes() -> None:
    """Make every SQLite write transaction of this process's Prefect server IMMEDIATE."""
    from prefect.server.database.configurations import AioSqliteConfiguration

    original = AioSqliteConfiguration.begin_transaction
    if getattr(original, "_immediate", False):
        return

    def begin_transaction(
        self: AioSqliteConfiguration, session: Any, with_for_update: bool = False
    ) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
        # with_for_update only chooses the BEGIN mode for SQLite
        return original(self, session, with_for_update=True)  # type: ignore[return-value]

    begin_transaction._immediate = True  # type: ignore[attr-defined]
    AioSqliteConfiguration.begin_transaction = begin_transaction  # type: ignore[assignment,method-assign]


def _option(args: list[str], name: str, default: str) -> str:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return default


def closed_to_web_pages(host: str, port: str) -> None:
    """Serve the app behind `LocalOnly`: only the server's own UI origin and loopback names.

    `prefect server start` in the foreground builds its app with `create_app` at
    start-up, so wrapping that function here wraps the one app this process serves.
    """
    import prefect.server.api.server as server

    from deployments.runtime.local_only import LOOPBACK_HOSTS, LocalOnly, own_origins

    original = server.create_app
    if getattr(original, "_local_only", False):
        return
    hosts = set(LOOPBACK_HOSTS) | {host.strip("[]").lower()}

    def create_app(*args: Any, **kwargs: Any) -> Any:
        return LocalOnly(original(*args, **kwargs), own_origins(port), hosts)

    create_app._local_only = True  # type: ignore[attr-defined]
    server.create_app = create_app  # type: ignore[assignment]


def prefect_env(
    folder: Path,
    api_url: str,
    database: Database | None = None,
    auth: TeamAuth | None = None,
) -> dict[str, str]:
    """The server's environment: allow-listed, lean, closed to web pages; in team mode its
    database and its login (`team_auth`), never on the command line."""
    store = prefect_server_env(auth) if auth else {}
    if database is not None:
        store["PREFECT_API_DATABASE_CONNECTION_URL"] = database.url("prefect", "asyncpg")
    env = server_env(
        drop=(
            "PREFECT_API_URL",
            "PREFECT_HOME",
            "PREFECT_PROFILES_PATH",
            "PREFECT_UI_API_URL",
            "PREFECT_API_DATABASE_CONNECTION_URL",
        ),
        PREFECT_HOME=str(folder / "prefect"),
        # The UI asks the server where its API is (`/ui-settings`): the port this
        # server bound, not Prefect's default 4200 (another checkout's server there).
        PREFECT_UI_API_URL=api_url,
        # Lean settings (see the stack notes): no telemetry, block types
        # registered once rather than on every start.
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION="true",
        # CORS for the server's own UI only, not `*` (deployments.runtime.local_only)
        PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS=",".join(own_origins(port_of(api_url))),
    )
    return {**env, **store}


def port_of(api_url: str) -> str:
    """`http://127.0.0.1:4242/api` -> `4242`."""
    return api_url.rsplit(":", 1)[1].split("/", 1)[0]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    immediate_sqlite_writes()
    seed_current_prefect_database()  # a new home's database, without its migrations
    closed_to_web_pages(_option(args, "--host", "127.0.0.1"), _option(args, "--port", "4200"))
    from prefect.cli import app

    # Prefect's CLI reads sys.argv; in the foreground it serves from this process.
    sys.argv = ["prefect", "server", "start", *args]
    app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
