"""Local process management: the servers of `make serve`, the local Prefect server, the warm worker.

Imported only by command-line entry points (`flows/cli.py` and the CLI mains of
`flows.train`, `flows.sweep` and `flows.predict`, `deployments/*.py`,
`blocks.register`'s main), never by flow or task modules; `make lint` checks it.

- `context`: the Prefect settings context of a command (`local_prefect`,
  `starting_local_prefect`).
- `settings`: a command's `PlatformSettings`, built once (`platform_settings`).
- `servers`: start, find and stop the local Prefect and MLflow servers.
- `warm`: the warm worker (`python -m deployments.runtime.warm`); imported
  on its own, so that running it does not load it twice.
- `procs`: the one spawn / alive / end helper, the start lock and the
  environment allow-list that every background process goes through.
- `team_auth`: team mode's logins (the Prefect auth string, MLflow's
  basic-auth accounts), made once and kept 0600 in the home; `discover` logs
  a process in with them.

Nothing is imported until a name is used: the warm worker's client
(`deployments.runtime.warm`) runs before anything heavy is imported, and
should not pay for the rest of the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deployments.runtime.context import local_prefect, starting_local_prefect
    from deployments.runtime.procs import alive, end, locked, server_env, spawn
    from deployments.runtime.servers import Served, begin, discover, healthy, start, stop
    from deployments.runtime.settings import platform_settings

_HOMES = {
    "context": ("local_prefect", "starting_local_prefect"),
    "procs": ("alive", "end", "locked", "server_env", "spawn"),
    "servers": ("Served", "begin", "discover", "healthy", "start", "stop"),
    "settings": ("platform_settings",),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'deployments.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f"deployments.runtime.{module}"), name)


__all__ = [
    "Served",
    "alive",
    "begin",
    "discover",
    "end",
    "healthy",
    "local_prefect",
    "locked",
    "platform_settings",
    "server_env",
    "spawn",
    "start",
    "starting_local_prefect",
    "stop",
]
