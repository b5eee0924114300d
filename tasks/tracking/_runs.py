"""Runs: start (or resume, keyed on the flow run), tags, metrics, text, end.

Calls take an explicit run id rather than MLflow's thread-local "active run",
so Prefect may run tasks in any thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pandas as pd

from libs.settings import PlatformSettings
from tasks.tracking._client import (
    MlflowClient,
    RunHandle,
    RunStatus,
    client_for,
    client_of,
    ensure_experiment,
    post_once,
    rest_store,
    run_url,
)
from tasks.tracking._gate_record import abandon_pending_versions
from tasks.tracking._health import tracking_answers
from tasks.tracking._links import link_tags, process_tags, source_tags
from tasks.tracking._reconcile import clean_up_dead_processes


def start_run(
    settings: PlatformSettings,
    *,
    experiment: str,
    artifact_root: str | None,
    run_name: str,
    params: dict[str, str],
    tags: dict[str, str],
    flow_run_id: str | None,
    resume: bool = True,
) -> RunHandle:
    """Start the flow run's MLflow run, or resume it when the same flow run retries.

    Every run kind (training, sweep, batch scoring) starts here, so each one first
    cleans up after dead processes and records its own host and pid. Keyed on the
    Prefect flow-run id: a create that was retried behind our back (two runs for one
    flow run) is reduced to the oldest run, the others deleted. `resume=False`
    (the caller knows this is the flow run's first try) skips looking for one.
    """
    client = client_for(settings)
    if "mlflow.parentRunId" not in tags:  # a sweep's points: the sweep's start did it
        clean_up_dead_processes(settings)
    experiment_id = ensure_experiment(client, experiment, artifact_root)
    all_tags = {**source_tags(), **tags, **process_tags()}
    if flow_run_id:
        all_tags["prefect.flow_run_id"] = flow_run_id
    found = _runs_of_flow_run(client, experiment_id, flow_run_id) if flow_run_id and resume else []
    if found:
        run_id = _keep_oldest_run(client, found)
        client.update_run(run_id, status="RUNNING")
        if "error" in client.get_run(run_id).data.tags:  # the failed attempt this retry replaces
            client.delete_tag(run_id, "error")
        set_tags_by_id(client, run_id, process_tags())  # this attempt's process, not the last one
    else:
        run_id = _create_run(client, experiment_id, run_name, all_tags, flow_run_id)
    _log_params(client, run_id, params)
    return RunHandle(
        run_id=run_id,
        experiment_id=experiment_id,
        tracking_uri=settings.resolved_tracking_uri,
        url=run_url(settings, experiment_id, run_id),
    )


def start_sweep_run(
    settings: PlatformSettings,
    *,
    experiment: str,
    artifact_root: str | None,
    run_name: str,
    params: dict[str, str],
    tags: dict[str, str],
    flow_run_id: str | None,
) -> RunHandle:
    """The sweep's parent run; a retried sweep flow run resumes its own parent run."""
    return start_run(
        settings,
        experiment=experiment,
        artifact_root=artifact_root,
        run_name=run_name,
        params=params,
        tags={**tags, **link_tags(flow_run_id)},
        flow_run_id=flow_run_id,
    )


def _runs_of_flow_run(client: MlflowClient, experiment_id: str, flow_run_id: str) -> list[Any]:
    return list(
        client.search_runs(
            [experiment_id],
            filter_string=f"tags.`prefect.flow_run_id` = '{flow_run_id}'",
            max_results=50,
        )
    )


def _keep_oldest_run(client: MlflowClient, runs: list[Any]) -> str:
    """The first run of a flow run; later copies (a retried create) are ended and deleted."""
    ordered = sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))
    for extra in ordered[1:]:
        client.set_terminated(extra.info.run_id, status="KILLED")
        client.delete_run(extra.info.run_id)
    return str(ordered[0].info.run_id)


def _create_run(
    client: MlflowClient,
    experiment_id: str,
    run_name: str,
    tags: dict[str, str],
    flow_run_id: str | None,
) -> str:
    """Create the run once (no HTTP retry of the POST), then read it back by its key.

    A create that the server did but whose answer was lost is found by the read;
    one that did not happen raises its error, and the task's retry starts over.
    """
    import time

    error: Exception | None = None
    run_id = None
    store = None
    try:
        store = rest_store(client._tracking_client.store)
        if store is None:
            run_id = client.create_run(experiment_id, run_name=run_name, tags=tags).info.run_id
        else:
            body = {
                "experiment_id": str(experiment_id),
                "user_id": tags.get("mlflow.user", "unknown"),
                "start_time": int(time.time() * 1000),
                "run_name": run_name,
                "tags": [{"key": k, "value": str(v)} for k, v in tags.items()],
            }
            run_id = post_once(store, "/api/2.0/mlflow/runs/create", body)["run"]["info"]["run_id"]
    except Exception as exc:  # the answer may be lost while the run exists: read back first
        error = exc
    if not flow_run_id or (store is None and error is None and run_id is not None):
        # No flow run to key on, or a database store: its create either raised or
        # committed, so there is no lost answer to read back.
        if error is not None or run_id is None:
            raise error or RuntimeError("runs/create returned no run")
        return str(run_id)
    found = _runs_of_flow_run(client, experiment_id, flow_run_id)
    if not found:
        raise error or RuntimeError(f"run of flow run {flow_run_id} not found after creating it")
    return _keep_oldest_run(client, found)


def _log_params(client: MlflowClient, run_id: str, params: dict[str, str]) -> None:
    from mlflow.entities import Param

    items = [Param(k, v[:6000]) for k, v in params.items()]
    for start in range(0, len(items), 100):  # MLflow's batch limit is 100 params
        client.log_batch(run_id, params=items[start : start + 100])


def set_tags(run: RunHandle, tags: dict[str, str]) -> None:
    set_tags_by_id(client_of(run), run.run_id, tags)


def set_tags_by_id(client: MlflowClient, run_id: str, tags: dict[str, str]) -> None:
    from mlflow.entities import RunTag

    client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


def log_metrics(run: RunHandle, metrics: dict[str, float], step: int = 0) -> None:
    import math
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    items = [Metric(k, float(v), now, step) for k, v in metrics.items() if math.isfinite(v)]
    client_of(run).log_batch(run.run_id, metrics=items)


def log_epoch_metrics(run: RunHandle, logs: dict[str, float], *, epoch: int) -> None:
    """One epoch's training figures as step `epoch` of their metric histories."""
    log_metrics(run, logs, step=epoch)


def log_text(run: RunHandle, text: str, artifact_file: str) -> None:
    client_of(run).log_text(run.run_id, text, artifact_file)


def log_table(run: RunHandle, frame: pd.DataFrame, artifact_file: str) -> None:
    """A table as a CSV artifact of the run."""
    client_of(run).log_text(run.run_id, frame.to_csv(index=False), artifact_file)


def end_run(run: RunHandle, status: str = "FINISHED") -> None:
    client_of(run).set_terminated(run.run_id, status=status)


def run_status(tracking_uri: str, run_id: str) -> str:
    """The run's status (FINISHED, FAILED, RUNNING...)."""
    return MlflowClient(tracking_uri).get_run(run_id).info.status


@contextlib.contextmanager
def failing_on_error(run: RunHandle) -> Iterator[None]:
    """End the MLflow run as FAILED if anything inside raises, then re-raise.

    Not when the tracking server no longer answers (one probe): each cleanup call
    would only wait out the client's retries on a dead server first.
    """
    try:
        yield
    except BaseException as exc:
        if not tracking_answers(run.tracking_uri):
            raise
        with contextlib.suppress(Exception):
            set_tags(run, {"error": f"{type(exc).__name__}: {exc}"[:5000]})
            end_run(run, RunStatus.to_string(RunStatus.FAILED))
        with contextlib.suppress(Exception):
            abandon_pending_versions(run, f"the run failed: {type(exc).__name__}")
        raise


__all__ = [
    "end_run",
    "failing_on_error",
    "log_epoch_metrics",
    "log_metrics",
    "log_table",
    "log_text",
    "run_status",
    "set_tags",
    "set_tags_by_id",
    "start_run",
    "start_sweep_run",
]
