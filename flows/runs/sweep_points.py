"""A sweep point: its `run-point` task, and its training sub-flow in this thread or a worker.

In a thread, the training flow is called inside the `run-point` task and
Prefect makes it a sub-flow run. In a worker process (the sweep's `executor`,
see `deployments.runtime.pool`), there is no Prefect run context to inherit,
so the request carries what the point depends on: the environment, working
directory and Prefect settings of the sweep, and the `run-point` task run the
point's flow run is created under. The Prefect UI shows the same thing
either way: one child flow run of the sweep per point.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.config.sweep import PointJob
from flows.runs.train import training_flow
from libs.doe.sweep import PointResult
from libs.settings import PlatformSettings
from tasks import tracking
from tasks.caching import clear_shared
from tasks.sweep_records import record_point, reuse_point
from tasks.tracking import OWNER_PID_ENV


@dataclass(frozen=True)
class PointRequest:
    """One point for a worker process: the job and the sweep's context."""

    job: PointJob
    parent_run_id: str
    lean: bool
    settings: PlatformSettings  # the sweep's: the worker builds none of its own
    parent_task_run_id: str | None
    tags: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    prefect_settings: Any  # prefect.settings.Settings of the sweep


@dataclass(frozen=True)
class PointTrained:
    """What a point's training returned (or the one line of its error)."""

    model_uri: str = ""
    run_id: str = ""
    error: str = ""


def keep_in_worker(handler: Any) -> bool:
    """Prefect's API log handler stays in a worker process: it sends the point's lines
    to its flow run from there. The worker's other log lines go to the sweep's handlers."""
    from prefect.logging.handlers import APILogHandler

    return isinstance(handler, APILogHandler)


def error_line(exc: BaseException, limit: int = 2000) -> str:
    """A failed point's (or run's) error as one line: the exception's type and first line."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:limit]


def point_flow_run_name(job: PointJob) -> str:
    """A point's flow run name in the Prefect UI: `point-3 learning_rate=0.1, max_depth=3`
    (the point's index, as the sweep's MLflow tags and results count it, and its setting)."""
    from libs.doe.names import Namer

    setting = Namer.of(list(job.point)).point(job.point)
    return f"point-{job.index} {setting}".strip()[:200]


def _parameters(
    job: PointJob, parent_run_id: str, lean: bool, settings: PlatformSettings
) -> dict[str, Any]:
    """The training flow's parameters for a point (the sweep's settings, not rebuilt)."""
    return {
        "config": job.config,
        "parent_run_id": parent_run_id,
        "lean": lean,
        "settings": settings,
    }


def train_in_thread(
    job: PointJob, parent_run_id: str, lean: bool, settings: PlatformSettings
) -> PointTrained:
    """The point's training sub-flow, called in this thread (inside its task)."""
    training = training_flow(job.config.model.framework)
    name = point_flow_run_name(job)
    named = training.with_options(flow_run_name=lambda: name)  # a callable: no str.format
    summary = named(**_parameters(job, parent_run_id, lean, settings))
    return PointTrained(summary.model_uri, summary.run_id)


def point_request(
    job: PointJob, parent_run_id: str, lean: bool, settings: PlatformSettings
) -> PointRequest:
    """The request for a worker process, made inside the point's `run-point` task.

    As Prefect does for a sub-flow called in a task, a task run that stands
    for the sub-flow is created in the sweep's flow run, with the `run-point`
    task run as its parent; the worker's flow run is created under it, and the
    server keeps its state in step with the flow run's. It is created with the
    sweep's own client (a new client per point costs tens of milliseconds).
    """
    from uuid import uuid4

    from prefect import Task
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import TaskRunResult
    from prefect.context import FlowRunContext, TagsContext, TaskRunContext
    from prefect.settings import get_current_settings
    from prefect.states import Pending

    training = training_flow(job.config.model.framework)
    flow_run = FlowRunContext.get()
    task_run = TaskRunContext.get()
    stand_in_id = None
    if flow_run is not None and flow_run.flow_run is not None:
        stand_in: Any = Task(name=training.name, fn=training.fn, version=training.version)
        key = uuid4().hex
        created = get_client(sync_client=True).create_task_run(
            task=stand_in,
            flow_run_id=flow_run.flow_run.id,
            dynamic_key=key,
            name=f"{training.name}-{key[:3]}",
            extra_tags=TagsContext.get().current_tags,
            state=Pending(),
            task_inputs={"__parents__": [TaskRunResult(id=task_run.task_run.id)]}
            if task_run
            else {},
        )
        stand_in_id = str(created.id)
    prefect_settings = get_current_settings()
    if not prefect_settings.api.url:  # a temporary server Prefect started: the client's address
        from prefect.settings import PREFECT_API_URL

        api_url = str(get_client(sync_client=True).api_url).rstrip("/")
        prefect_settings = prefect_settings.copy_with_update(updates={PREFECT_API_URL: api_url})
    return PointRequest(
        job=job,
        parent_run_id=parent_run_id,
        lean=lean,
        settings=settings,
        parent_task_run_id=stand_in_id,
        tags=tuple(sorted(TagsContext.get().current_tags)),
        # The sweep's process owns the point's run (a killed sweep's points are reconciled)
        env={**os.environ, OWNER_PID_ENV: str(os.getpid())},
        cwd=os.getcwd(),
        prefect_settings=prefect_settings,
    )


# This worker process's Prefect settings and client, entered once for all its points:
# a client per point would cost an SSL context and a version check each time.
_WORKER: dict[str, Any] = {}


def _enter_worker_context(settings: Any) -> None:
    from prefect.context import SettingsContext, SyncClientContext, get_settings_context

    key = str(settings.api.url)
    if _WORKER.get("key") == key:
        return
    SettingsContext(profile=get_settings_context().profile, settings=settings).__enter__()
    SyncClientContext().__enter__()  # left open: the process ends with the pool
    _WORKER["key"] = key


def train_in_process(request: PointRequest) -> PointTrained:
    """In a worker process: the point's flow run, a child of its `run-point` task run."""
    try:
        os.environ.clear()
        os.environ.update(request.env)
        os.chdir(request.cwd)
        from prefect.client.orchestration import get_client
        from prefect.flow_engine import run_flow
        from prefect.states import Pending

        _enter_worker_context(request.prefect_settings)
        if _WORKER.get("sweep") != request.parent_run_id:
            # A worker kept for a study's next stage (flows.api) reads that stage's data
            # afresh, as a new worker would: the shared inputs last one sweep.
            clear_shared()
            _WORKER["sweep"] = request.parent_run_id
        job = request.job
        training = training_flow(job.config.model.framework)
        parameters = _parameters(job, request.parent_run_id, request.lean, request.settings)
        flow_run = get_client(sync_client=True).create_flow_run(
            flow=training,
            name=point_flow_run_name(job),
            parameters=training.serialize_parameters(parameters),
            state=Pending(),
            parent_task_run_id=UUID(request.parent_task_run_id)
            if request.parent_task_run_id
            else None,
            tags=list(request.tags),
        )
        summary: Any = run_flow(training, flow_run=flow_run, parameters=parameters)
        return PointTrained(summary.model_uri, summary.run_id)
    except Exception as exc:  # sent back as a line: an exception may not pickle
        return PointTrained(error=error_line(exc))


def train_point(
    job: PointJob,
    parent_run_id: str,
    lean: bool,
    executor: Executor | None,
    settings: PlatformSettings,
) -> PointTrained:
    """Train one point in a worker process when the sweep has an executor, else here."""
    if executor is None:
        return train_in_thread(job, parent_run_id, lean, settings)
    from concurrent.futures.process import BrokenProcessPool

    future = executor.submit(train_in_process, point_request(job, parent_run_id, lean, settings))
    try:
        result: PointTrained = future.result()
    except BrokenProcessPool:
        return PointTrained(error="its worker process died (killed, or out of memory)")
    return result


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
    lean = lean and mode == "local"
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


__all__ = [
    "PointRequest",
    "PointTrained",
    "deployment_request",
    "keep_in_worker",
    "point_flow_run_name",
    "point_request",
    "run_point",
    "train_in_process",
    "train_in_thread",
    "train_point",
]
