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
process: a server on PostgreSQL is untouched. Run as

    python -m deployments.runtime.prefect_server [prefect server start arguments]
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any


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


def main(argv: list[str] | None = None) -> int:
    immediate_sqlite_writes()
    from prefect.cli import app

    # Prefect's CLI reads sys.argv; in the foreground it serves from this process.
    sys.argv = ["prefect", "server", "start", *(sys.argv[1:] if argv is None else argv)]
    app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
