"""A command's `PlatformSettings`, built once per process and handed down from there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when first needed: the warm worker's client stays light
    from libs.settings import PlatformSettings

_cached: tuple[tuple[object, ...], PlatformSettings] | None = None


def platform_settings(*, served: bool = False, for_run: bool = False) -> PlatformSettings:
    """This process's settings, built once and checked (`libs.settings.check_environment`).

    Built again only when what they are read from changed (`MLOPS_*`
    variables, the working directory's `.env`), as in tests that change the
    environment between commands run in one process.

    `served`: with the tracking URI of the MLflow server that `make serve` (team
    mode) runs for this home, when one answers and no tracking URI is set, as
    `local_prefect` gives a flow run: commands that read the registry before or
    without a flow run (scoring's checks, lineage, `--reproduce`) then read the
    same store the runs write to.

    `for_run`: the command is about to run a flow: its home's disk must have room for
    one (`check_free_space`), said before any server starts.
    """
    settings = _checked()
    if for_run:
        check_free_space(settings)
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


# Free space a run needs under MLOPS_HOME: Prefect's and MLflow's databases, a data
# snapshot, a model and its report. Below it a run would fail part-way (a temporary
# Prefect server that never answers, log lines that cannot be written).
MIN_FREE_BYTES = 64 * 1024 * 1024


def check_free_space(settings: PlatformSettings, needed: int = MIN_FREE_BYTES) -> None:
    """One InputError line naming the folder and its free space when a run would not fit.

    Checked on the nearest existing folder of `MLOPS_HOME` (the home may not exist
    yet), before any server starts or anything is written.
    """
    import shutil

    from libs.errors import InputError

    folder = settings.home_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # not ours to judge: the run reports what it meets
    if free < needed:
        raise InputError(
            f"MLOPS_HOME: {settings.home_dir} has {_size(free)} free on its disk, a run needs "
            f"at least {_size(needed)}: free some space or set MLOPS_HOME to a folder on "
            "another disk"
        )


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count < 1024**3 else f"{count / 1024**3:.1f} GB"


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (0, -1)
    return (info.st_mtime_ns, info.st_size)


__all__ = ["MIN_FREE_BYTES", "check_free_space", "platform_settings"]
