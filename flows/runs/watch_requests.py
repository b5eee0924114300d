"""The `watch-requests` flow: drift of a served model's logged requests, to MLflow.

Reads what `python -m flows.serve_model` sampled (`<storage>/requests/NAME/`)
over the last `days` days, measures its drift against the champion's training
snapshot with the batch-scoring drift check (PSI per feature, KS for numbers),
and logs one MLflow run: metrics `drift.psi.<feature>`, `drift.features_flagged`,
the tag `drift.flagged` and the HTML drift report. Flagged drift is also the
Prefect event `mlops.drift.flagged`, which an automation can turn into a
notification. With `health_url`, it first checks the scoring server there
(`/health`, and `/version` for a refused champion); a failed check is the event
`mlops.serving.unhealthy`. A window with no logged request ends the run
Completed, with 0 rows and no MLflow run (a quiet hour is not a failure). Its
command line is `python -m flows.watch_requests`; the `watch/hourly` deployment
schedules it.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from libs.drift import DriftSpec
from libs.scoring import ScoreResult
from libs.settings import PlatformSettings, check_environment
from tasks import tracking
from tasks.lifecycle import finish_tracking
from tasks.predict import drift_reference, drift_report, log_batch, start_inference_run
from tasks.predict_input import load_model
from tasks.storage import open_storage
from tasks.watch import (
    announce_drift,
    announce_unhealthy,
    check_serving,
    read_requests,
    request_drift,
)


@flow(name="watch-requests", version="1")
def watch_requests(
    model: str,
    days: int = 1,
    experiment: str = "request-drift",
    drift: DriftSpec = DriftSpec(),  # noqa: B008 (frozen pydantic model: safe as a default)
    settings: PlatformSettings | None = None,
    health_url: str | None = None,
) -> ScoreResult:
    """Drift of `model`'s logged requests against its champion's training data; with
    `health_url`, first the health of the scoring server there."""
    settings = check_environment(settings)

    # 1. The champion, read before any run starts
    storage = open_storage(settings)
    tracking.use_artifact_credentials(storage.artifact_env())
    loaded = load_model(settings, model, "champion", None)

    # 2. The scoring server's health, announced before the drift (no requests may follow it)
    if health_url:
        problem = check_serving(health_url, loaded.ref.version)
        announce_unhealthy(loaded.ref.name, loaded.ref.version, health_url, problem)

    # 3. The logged requests and the training data they are compared with
    probe = read_requests(loaded, storage, days=days)
    if probe.rows == 0:  # a quiet hour: nothing to measure, no MLflow run, not a failure
        get_run_logger().warning(
            "no requests logged under %s in the last %d day(s): drift not measured",
            probe.uri,
            days,
        )
        return ScoreResult(rows=0, seconds=0.0, output_uri=probe.uri, drift=None)
    reference = drift_reference(loaded, probe, drift, storage)

    # 4. One MLflow run per check, in the watch experiment
    run = start_inference_run(
        settings,
        storage,
        experiment=experiment,
        loaded=loaded,
        probe=probe,
        params={"days": str(days), "drift.psi_threshold": str(drift.psi_threshold)},
        tags={"framework": "pyfunc", "kind": "request-drift"},
    )
    with tracking.failing_on_error(run):
        # 5. Drift, its report and metrics
        result = request_drift(probe, reference)
        meta = {
            "run id": run.run_id,
            "model": f"{loaded.ref.name} version {loaded.ref.version}",
            "requests": probe.uri,
        }
        html = drift_report(f"{loaded.ref.name}: drift of served requests", result, meta)
        log_batch(run, result, html)
        finish_tracking(run)

    # 6. Flagged drift as a Prefect event, for an automation to notify on
    announce_drift(loaded, result, run.url)
    return result


__all__ = ["watch_requests"]
