"""The Prefect API for in-process flow tests: the platform's own local server.

The same server a user's first `python -m flows.train` starts
(`deployments.runtime.servers`), on a free loopback port and a state folder
of the session: SQLite with write transactions that wait for the lock
(`deployments.runtime.prefect_server`). Prefect's test harness runs the stock
server, whose "database is locked" 503s make concurrent sweep points and
registrations wait out the client's back-off for seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def platform_prefect_server(state: Path) -> Iterator[str]:
    """A running local Prefect server for this process's flows; stopped on exit."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from deployments.runtime.servers import free_port, start, stop

    served = start(state, prefect_port=free_port(0), mlflow_port=None, timeout=180)
    try:
        with (
            temporary_settings(updates={PREFECT_API_URL: served.prefect_api_url}),
            # Threads a test starts (concurrent runs) see it too, as in Prefect's harness
            prefect.context._temporary_global_settings_context(
                prefect.context.get_settings_context()
            ),
        ):
            yield served.prefect_api_url
    finally:
        stop(state)
