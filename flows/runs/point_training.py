"""Training one sweep point: its training sub-flow in this thread, or in a worker process.

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
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from flows.config.sweep import PointJob
from flows.runs.train import training_flow
from libs.settings import PlatformSettings
from tasks.caching import clear_shared
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


__all__ = [
    "PointRequest",
    "PointTrained",
    "error_line",
    "keep_in_worker",
    "point_flow_run_name",
    "point_request",
    "train_in_process",
    "train_in_thread",
    "train_point",
]
