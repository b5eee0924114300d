"""Watch served traffic: the sampled requests of a model, and their drift from training."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from blocks.storage import Storage
from libs import io as storage_io
from libs.drift import DriftAccumulator, DriftReference
from libs.io.listing import list_files
from libs.scoring import ScoreResult
from libs.serving import request_log_uri, serving_problem
from libs.serving.request_log import PREDICTION_COLUMN, TIME_COLUMN, VERSION_COLUMN
from tasks._common import io_task
from tasks.predict_input import InputProbe, LoadedModel, options_for

_LOG_COLUMNS = (PREDICTION_COLUMN, TIME_COLUMN, VERSION_COLUMN)
# The Prefect event a watch emits when it flags drift: what an automation notifies on.
DRIFT_FLAGGED = "mlops.drift.flagged"
# The event a watch emits when the scoring server fails its health check.
SERVING_UNHEALTHY = "mlops.serving.unhealthy"
# The event the scoring server emits when a new champion fails to load or its smoke test.
SERVING_REJECTED = "mlops.serving.rejected"
HEALTH_TIMEOUT_SECONDS = 10.0


@io_task("read-requests", cache_policy=NO_CACHE)
def read_requests(loaded: LoadedModel, storage: Storage, *, days: int) -> InputProbe:
    """The model's logged requests of the last `days` days (by their day folders), as the
    input of a drift check; none logged is a probe of 0 rows (a quiet hour is no error).

    Read from the run's storage with its options: where the scoring server wrote them
    (the local folder, or the storage block's bucket with its credentials)."""
    folder = request_log_uri(storage.root, loaded.ref.name)
    options = options_for(storage, folder)
    today = dt.datetime.now(dt.UTC).date()
    wanted = {f"date={today - dt.timedelta(days=n):%Y-%m-%d}" for n in range(days)}
    files = [
        f for f in list_files(folder, ".parquet", options) if f.rstrip("/").split("/")[-2] in wanted
    ]
    if not files:
        return InputProbe(uri=folder, sample=pd.DataFrame(), digest="no files", rows=0)
    frame = pd.concat([storage_io.read_table(f, options) for f in files], ignore_index=True)
    inputs = frame.drop(columns=[c for c in _LOG_COLUMNS if c in frame.columns])
    return InputProbe(uri=folder, sample=inputs, digest=f"{len(files)} files", rows=len(frame))


@task(name="request-drift", cache_policy=NO_CACHE)
def request_drift(probe: InputProbe, reference: DriftReference | None) -> ScoreResult:
    """PSI (and KS) of the logged inputs against the training snapshot's buckets."""
    started = time.perf_counter()
    drift = None
    if reference is not None:
        accumulator = DriftAccumulator(reference)
        accumulator.update(probe.sample)
        drift = accumulator.result()
    return ScoreResult(
        rows=len(probe.sample),
        seconds=time.perf_counter() - started,
        output_uri=probe.uri,
        drift=drift,
    )


@task(name="announce-drift", cache_policy=NO_CACHE)
def announce_drift(loaded: LoadedModel, result: ScoreResult, run_url: str) -> bool:
    """Emit `mlops.drift.flagged` (model, version, features, run) when features drifted;
    an automation on that event sends the notification. Returns whether it emitted."""
    if result.drift is None or not result.drift.flagged:
        return False
    emit_event(
        event=DRIFT_FLAGGED,
        resource={
            "prefect.resource.id": f"mlflow.registered-model.{loaded.ref.name}",
            "mlflow.model": loaded.ref.name,
        },
        payload={
            "model": loaded.ref.name,
            "version": loaded.ref.version,
            "flagged": list(result.drift.flagged),
            "rows": result.rows,
            "run_url": run_url,
        },
    )
    return True


@task(name="check-serving", cache_policy=NO_CACHE)
def check_serving(url: str, champion: str | None) -> str | None:
    """What is wrong with the scoring server at `url` (GET /health, then /version), or None.

    Not retried: a server that does not answer is the finding, not a failure of the task.
    """
    import httpx

    base = url.rstrip("/")
    try:
        with httpx.Client(timeout=HEALTH_TIMEOUT_SECONDS) as client:
            health = client.get(f"{base}/health")
            if health.status_code != 200:
                return serving_problem(champion, status=health.status_code)
            version = client.get(f"{base}/version")
    except httpx.HTTPError as exc:
        return serving_problem(champion, error=f"{type(exc).__name__}: {exc}")
    if version.status_code != 200:
        return serving_problem(champion, status=version.status_code)
    try:
        body = version.json()
    except ValueError:
        return serving_problem(champion, error="/version did not answer JSON")
    return serving_problem(champion, version_body=body)


@task(name="announce-unhealthy", cache_policy=NO_CACHE)
def announce_unhealthy(model: str, champion: str, url: str, problem: str | None) -> bool:
    """Emit `mlops.serving.unhealthy` (model, champion, server, problem) when the health
    check found a problem; an automation on that event notifies. Returns whether it emitted."""
    if problem is None:
        return False
    emit_event(
        event=SERVING_UNHEALTHY,
        resource={
            "prefect.resource.id": f"mlflow.registered-model.{model}",
            "mlflow.model": model,
        },
        payload={
            "model": model,
            "version": champion,
            "url": url,
            "problem": problem,
        },
    )
    return True


__all__ = [
    "DRIFT_FLAGGED",
    "SERVING_UNHEALTHY",
    "announce_drift",
    "announce_unhealthy",
    "check_serving",
    "read_requests",
    "request_drift",
]


def announce_rejection(model: str, version: str, served: str, reason: str) -> None:
    """Emit `mlops.serving.rejected` (model, the refused version, the one still served, why):
    the scoring server calls it, outside any flow, when a new champion fails to load or its
    smoke test; an automation on that event notifies (`deployments.serving_alerts`)."""
    emit_event(
        event=SERVING_REJECTED,
        resource={
            "prefect.resource.id": f"mlflow.registered-model.{model}",
            "mlflow.model": model,
        },
        payload={"model": model, "version": version, "served": served, "reason": reason},
    )
