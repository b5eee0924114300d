"""A sweep point's `run-point` task: reuse an earlier run of it, or train it (here, in a
worker process or as a deployment run) and record what it scored.

How a point is trained is `flows.runs.point_training`.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.config.sweep import PointJob
from flows.runs.point_training import error_line, point_flow_run_name, train_point
from libs.doe.sweep import PointResult
from libs.settings import PlatformSettings
from tasks import tracking
from tasks.sweep_records import record_point, reuse_point


def deployment_request(
    deployment_name: str,
    job: PointJob,
    *,
    parent_run_id: str,
    sweep_id: str,
    timeout: float | None,
) -> dict[str, Any]:
    """Keyword arguments of `run_deployment` for one point.

    The idempotency key joins the sweep digest, the point and the parent run:
    a retried sweep flow run (which resumes its parent run) never starts a
    point twice, while a new run of the same sweep retries the points that
    failed (those that completed are reused before this is called).
    """
    return {
        "name": deployment_name,
        "parameters": {
            "config": job.config.model_dump(mode="json"),
            "parent_run_id": parent_run_id,
        },
        "flow_run_name": point_flow_run_name(job),
        "idempotency_key": f"{sweep_id}-{job.index}-{parent_run_id}",
        "as_subflow": True,
        "timeout": timeout,
    }


@task(name="run-point", cache_policy=NO_CACHE)
def run_point(
    job: PointJob,
    prior: tracking.ChildRun | None = None,
    *,
    settings: PlatformSettings,
    parent_run_id: str,
    sweep_id: str,
    metric: str,
    mode: str,
    deployment_name: str | None,
    timeout: float | None,
    lean: bool = True,
    executor: Executor | None = None,
) -> PointResult:
    """Train one point as a sub-flow run (or a deployment run); a failure is recorded.

    `prior` is a run of the same point config that an earlier run of this
    sweep (or a study's earlier stage) finished: it is reused, not retrained.
    A `lean` point logs params, metrics, tags and datasets, no model or report
    (a deployment run trains in full). With an `executor` (worker processes)
    the point's sub-flow runs in one of them. A point that fails while the
    tracking server no longer answers marks it dead for the sweep: the points
    after it are not run (`tasks.tracking.check_tracking`). This task lives in
    flows/ because it calls a flow.
    """
    reused = reuse_point(
        prior, index=job.index, point=job.point, metric=metric, need_model=not lean
    )
    if reused is not None:
        return reused
    down = tracking.tracking_down(parent_run_id)  # found dead by an earlier point: not run
    if down is not None:
        return PointResult(job.index, job.point, "skipped", error=f"not run: {down}")
    started, error, model_uri, run_id = time.monotonic(), "", "", ""
    try:
        if mode == "deployment":
            from prefect.deployments import run_deployment

            assert deployment_name is not None
            flow_run: Any = run_deployment(
                **deployment_request(
                    deployment_name,
                    job,
                    parent_run_id=parent_run_id,
                    sweep_id=sweep_id,
                    timeout=timeout,
                )
            )
            state = flow_run.state
            if state is None or not state.is_completed():
                error = f"flow run {flow_run.name} ended {state.name if state else 'unknown'}"
        else:
            trained = train_point(job, parent_run_id, lean, executor, settings)
            model_uri, run_id, error = trained.model_uri, trained.run_id, trained.error
    except Exception as exc:
        error = error_line(exc)
    if error and tracking.check_tracking(settings.resolved_tracking_uri, parent_run_id):
        # Recording it would wait out the client's retries on a dead server
        return PointResult(job.index, job.point, "failed", error=error, run_id=run_id or None)
    return record_point(
        settings,
        parent_run_id=parent_run_id,
        sweep_id=sweep_id,
        index=job.index,
        point=job.point,
        config_digest=job.config_digest,
        metric=metric,
        model_uri=model_uri,
        seconds=time.monotonic() - started,
        error=error,
        lean=lean,
        run_id=run_id,
    )


__all__ = ["deployment_request", "run_point"]
