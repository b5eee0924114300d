"""The Prefect settings context of commands that talk to Prefect (flows, block registration).

A command's `PlatformSettings` are built once (`settings.platform_settings`)
and handed down: `local_prefect` yields them, with the tracking URI of `make
serve`'s MLflow server filled in when one runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import deployments.runtime.team_auth as team_auth
from deployments.runtime._warm_setup import prefect_profiles
from deployments.runtime.prefect_db import seed_current_prefect_database
from deployments.runtime.servers import Served, begin, discover, start, undo
from deployments.runtime.settings import platform_settings
from libs.errors import InputError

if TYPE_CHECKING:  # imported when first needed: the warm worker's client stays light
    from libs.settings import PlatformSettings


# State folders whose local Prefect server this process started (it announces it).
_began_here: set[Path] = set()


@contextlib.contextmanager
def local_prefect(
    settings: PlatformSettings | None = None, *, leave_warm_worker: bool = False
) -> Iterator[PlatformSettings]:
    """Keep Prefect's state under the platform's home unless the user chose otherwise.

    With no `PREFECT_API_URL`, Prefect starts a temporary local server whose
    database lives in `PREFECT_HOME`; pointing that at `<MLOPS_HOME>/prefect`
    keeps all local state in one folder. Telemetry is off: it only causes
    "database is locked" noise in this mode. When `make serve` is running (and
    no `PREFECT_API_URL` is set), its servers are used instead.

    `leave_warm_worker` (command-line runs in auto mode): at the end, start the
    warm worker that later runs hand themselves to (`deployments.runtime.warm`),
    if none runs.

    Yields the settings to use: given ones or this process's, with the MLflow
    server of `make serve` as tracking URI when it runs and nothing else is set.
    """
    settings = settings or platform_settings(for_run=True)  # room for a run on its disk

    from prefect.settings import (
        PREFECT_API_AUTH_STRING,
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        PREFECT_SERVER_LOGGING_LEVEL,
        get_current_settings,
        temporary_settings,
    )

    updates: dict = {PREFECT_SERVER_ANALYTICS_ENABLED: False}
    if "PREFECT_FLOWS_HEARTBEAT_FREQUENCY" not in os.environ:
        # An in-process run needs no crash heartbeats, and a sync flow waits up to
        # a second for its heartbeat thread at the end. Workers keep them.
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    if not get_current_settings().api.url:
        servers = discover(settings.home_dir)
        if servers is None and settings.prefect_server == "auto":
            servers = _start_local_server(settings)
        if servers is not None:
            updates[PREFECT_API_URL] = servers["prefect_api_url"]
            login = team_auth.load(settings.home_dir) if servers.get("auth") else None
            if login is not None:  # team mode: its Prefect server asks (discover set MLflow's)
                updates[PREFECT_API_AUTH_STRING] = login.prefect.pair
            _announce(settings.home_dir, servers["prefect_api_url"])
            mlflow_url = servers.get("mlflow_url")
            if mlflow_url and not settings.tracking_uri and "MLFLOW_TRACKING_URI" not in os.environ:
                # `make serve` is running: log to its MLflow server too.
                settings = settings.model_copy(update={"tracking_uri": mlflow_url})
    if (
        PREFECT_API_URL not in updates
        and not get_current_settings().api.url
        and "PREFECT_SERVER_LOGGING_LEVEL" not in os.environ
    ):
        # Prefect's temporary server writes its own log lines (a retried event flush
        # on a busy machine) to this command's stderr: the command's one `error:` line
        # or summary is what the terminal shows. Its failures still surface as the
        # client's errors.
        updates[PREFECT_SERVER_LOGGING_LEVEL] = "CRITICAL"
    if "PREFECT_HOME" not in os.environ:
        settings.prefect_home.mkdir(parents=True, exist_ok=True)
        updates[PREFECT_HOME] = str(settings.prefect_home)
    if "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" not in os.environ:
        # A first start on a new home migrates the database; slow machines need headroom.
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = 90
    try:
        with temporary_settings(updates=updates), _one_line_input_errors():
            if PREFECT_API_URL not in updates and not get_current_settings().api.url:
                # Prefect's temporary server will start on this home's database.
                seed_current_prefect_database()
            yield settings
    finally:
        _stop_temporary_server()
        if leave_warm_worker and settings.prefect_server == "auto":
            _leave_warm_worker(settings)


def _leave_warm_worker(settings: PlatformSettings) -> None:
    from deployments.runtime.warm import ensure_started

    try:
        started = ensure_started(settings.home_dir)
    except OSError as exc:  # an optimisation only: never fail the run for it
        print(f"note: could not start the warm worker ({exc})", file=sys.stderr)
        return
    if started:
        print(
            "Started a warm worker that later runs use to skip their imports "
            "(stop it with `make serve-stop`; MLOPS_WARM_WORKER=false avoids it)",
            file=sys.stderr,
        )


def _stop_temporary_server() -> None:
    """Flush events and stop Prefect's temporary server now, not in an exit hook.

    Prefect stops it from `atexit`, after the command has printed its outcome;
    doing it here keeps the `error:` line the last thing a user sees.
    """
    # Only what this process already loaded: importing Prefect's server module
    # just to find that no temporary server runs costs seconds.
    try:
        worker = sys.modules.get("prefect.events.worker")
        if worker is not None:
            worker.EventsWorker.drain_all(timeout=5)
        server_module = sys.modules.get("prefect.server.api.server")
        if server_module is not None:
            for server in list(server_module.SubprocessASGIServer._instances.values()):
                server.stop()
    except Exception:  # shutting down: never mask the run's own outcome
        return


class _InputErrorFilter(logging.Filter):
    """Bad input is reported as one line: drop the traceback Prefect logs with it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], InputError):
            first = record.getMessage().splitlines()[0]
            error = str(record.exc_info[1])
            record.msg = first if error in first else f"{first}: {error}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


@contextlib.contextmanager
def _one_line_input_errors() -> Iterator[None]:
    # Filters on the loggers that record run failures (handlers appear later).
    loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    log_filter = _InputErrorFilter()
    for logger in loggers:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(log_filter)


@contextlib.contextmanager
def starting_local_prefect() -> Iterator[bool]:
    """Start the local Prefect server now, without waiting, when the run will need it.

    A first run on a fresh home waits ~10 s for the server (its database is
    created); begun before the command's imports and config checks, that start
    overlaps them. Yields whether a server is starting (the block may prepare
    more while it waits). If the block raises (bad config), the server is
    stopped and any folder this created removed: bad input leaves nothing behind.
    """
    started = _begin_local_server()
    try:
        yield started is not None
    except BaseException:
        if started is not None:
            _undo_begin(*started)
        raise


def _begin_local_server() -> tuple[Served, list[Path]] | None:
    """What this call started and the folders it created, when it started a server."""
    try:
        settings = platform_settings(for_run=True)
    except InputError:  # reported by local_prefect, with the field named (or the disk full)
        return None
    if settings.prefect_server != "auto" or _api_url_configured():
        return None
    home = settings.home_dir
    if discover(home) is not None:
        return None
    created = [p for p in (home, home / "serve") if not p.exists()]
    try:
        served = begin(home, mlflow_port=None)
    except OSError:
        return None  # local_prefect tries again and reports
    if not served.began:
        return None  # another command started it: not ours to stop
    _began_here.add(home)
    return served, created


def _api_url_configured() -> bool:
    """Whether Prefect may get an API URL from somewhere (checked without importing it)."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    for path, marker in (
        (prefect_profiles(), "PREFECT_API_URL"),
        (Path(".env"), "PREFECT_API_URL"),
        (Path("prefect.toml"), ""),
        (Path("pyproject.toml"), "tool.prefect"),
    ):
        try:
            if marker in path.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def _undo_begin(served: Served, created: list[Path]) -> None:
    undo(served)
    for path in created:
        shutil.rmtree(path, ignore_errors=True)


def _start_local_server(settings: PlatformSettings) -> dict[str, object] | None:
    """Start the reusable local Prefect server once; later runs find and reuse it.

    Prefect's temporary server costs seconds to start and stop on every run;
    one background server under `<MLOPS_HOME>/serve` pays that once. The run
    that started it announces it on stderr; `make serve-stop` stops it, and
    MLOPS_PREFECT_SERVER=temporary avoids it altogether.
    """
    try:
        served = start(settings.home_dir, mlflow_port=None, timeout=120)
    except (RuntimeError, OSError) as exc:
        print(
            f"note: could not start a local Prefect server ({exc}); using a temporary one",
            file=sys.stderr,
        )
        return None
    if served.began:
        _began_here.add(settings.home_dir)
    return {"prefect_api_url": served.prefect_api_url, "auth": served.db == "postgres"}


def _announce(home: Path, api_url: str) -> None:
    """Say once that this process started the local server (not when another run did)."""
    if home in _began_here:
        _began_here.discard(home)
        print(
            f"Started a local Prefect server for this and later runs: "
            f"{api_url.removesuffix('/api')} "
            f"(stop it with `make serve-stop`; MLOPS_PREFECT_SERVER=temporary avoids it)",
            file=sys.stderr,
        )


__all__ = ["local_prefect", "starting_local_prefect"]
