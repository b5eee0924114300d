"""Process-level Prefect settings for commands that talk to Prefect (flows, block registration)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from blocks.servers import discover
from libs.errors import InputError
from libs.settings import PlatformSettings


@contextlib.contextmanager
def local_prefect(settings: PlatformSettings | None = None) -> Iterator[PlatformSettings]:
    """Keep Prefect's state under the platform's home unless the user chose otherwise.

    With no `PREFECT_API_URL`, Prefect starts a temporary local server whose
    database lives in `PREFECT_HOME`; pointing that at `<MLOPS_HOME>/prefect`
    keeps all local state in one folder. Telemetry is off: it only causes
    "database is locked" noise in this mode. When `make serve` is running (and
    no `PREFECT_API_URL` is set), its servers are used instead.
    """
    from pydantic import ValidationError

    try:
        settings = settings or PlatformSettings()
    except ValidationError as exc:
        raise InputError(
            f"environment: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}"
        ) from None

    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    updates: dict = {PREFECT_SERVER_ANALYTICS_ENABLED: False}
    if "PREFECT_API_URL" not in os.environ:
        servers = discover(settings.home_dir)
        if servers is not None:
            # `make serve` is running: use its Prefect API and MLflow server.
            updates[PREFECT_API_URL] = servers["prefect_api_url"]
            if not settings.tracking_uri and "MLFLOW_TRACKING_URI" not in os.environ:
                os.environ["MLOPS_TRACKING_URI"] = servers["mlflow_url"]
                settings = PlatformSettings()
            print(
                f"Using the servers of `make serve`: Prefect {servers['prefect_api_url']}, "
                f"MLflow {settings.resolved_tracking_uri}",
                file=sys.stderr,
            )
    if "PREFECT_HOME" not in os.environ:
        settings.prefect_home.mkdir(parents=True, exist_ok=True)
        updates[PREFECT_HOME] = str(settings.prefect_home)
    if "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" not in os.environ:
        # A first start on a new home migrates the database; slow machines need headroom.
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = 90
    with temporary_settings(updates=updates):
        yield settings


__all__ = ["local_prefect"]
