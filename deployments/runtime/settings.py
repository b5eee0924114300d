"""A command's `PlatformSettings`, built once per process and handed down from there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when first needed: the warm worker's client stays light
    from libs.settings import PlatformSettings

_cached: tuple[tuple[object, ...], PlatformSettings] | None = None


def platform_settings(*, served: bool = False) -> PlatformSettings:
    """This process's settings, built once and checked (`libs.settings.check_environment`).

    Built again only when what they are read from changed (`MLOPS_*`
    variables, the working directory's `.env`), as in tests that change the
    environment between commands run in one process.

    `served`: with the tracking URI of the MLflow server that `make serve` (team
    mode) runs for this home, when one answers and no tracking URI is set, as
    `local_prefect` gives a flow run: commands that read the registry before or
    without a flow run (scoring's checks, lineage, `--reproduce`) then read the
    same store the runs write to.
    """
    settings = _checked()
    return _with_served_tracking(settings) if served else settings


def _with_served_tracking(settings: PlatformSettings) -> PlatformSettings:
    if settings.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"):
        return settings
    from deployments.runtime.servers import discover

    servers = discover(settings.home_dir)
    mlflow_url = servers.get("mlflow_url") if servers else None
    if not mlflow_url:
        return settings
    return settings.model_copy(update={"tracking_uri": mlflow_url})


def _checked() -> PlatformSettings:
    global _cached
    from libs.settings import check_environment

    key = (
        tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("MLOPS_"))),
        os.getcwd(),
        _stamp(Path(".env")),
    )
    if _cached is not None and _cached[0] == key:
        return _cached[1]
    settings = check_environment()  # one line naming the variable on a bad value
    _cached = (key, settings)
    return settings


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (0, -1)
    return (info.st_mtime_ns, info.st_size)


__all__ = ["platform_settings"]
