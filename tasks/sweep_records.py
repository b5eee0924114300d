"""What a sweep reads and writes on its points' MLflow runs: earlier sweeps, reuse, records.

Plain functions (no task), called by the sweep's tasks and by the sweep flow's
`run-point` task.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd

from libs.doe.names import Namer
from libs.doe.sweep import EarlierSweep, PointResult, objective_value
from libs.errors import InputError
from libs.settings import PlatformSettings
from tasks import tracking

# --- earlier sweeps (a study's next stage reads them back) -------------------------------


def _parent_runs(client: Any, ref: str) -> list[Any]:
    """Parent sweep runs whose run id is `ref` or whose sweep id starts with it, newest first."""
    if not ref.isalnum():  # a sweep id and a run id are hex: nothing else can match
        return []
    runs = []
    if len(ref) == 32 and all(c in "0123456789abcdef" for c in ref):
        with contextlib.suppress(Exception):  # no such run: look for a sweep id instead
            runs.append(client.get_run(ref))
    if not runs:
        ids = [e.experiment_id for e in client.search_experiments()]
        if ids:
            runs = client.search_runs(
                ids,
                filter_string=f"tags.`sweep.id` LIKE '{ref}%' and tags.`sweep.role` = 'parent'",
                order_by=["attributes.start_time DESC"],
                max_results=20,
            )
    return [r for r in runs if r.data.tags.get("sweep.role") == "parent"]


def find_sweep(settings: PlatformSettings, ref: str, argument: str) -> EarlierSweep:
    """The newest finished sweep with this sweep id or parent run id; InputError if none.

    Reads back what the sweep logged: its config (`sweep/sweep_config.json`)
    and its results table (`sweep/results.csv`), so the next stage can be
    planned and the earlier one re-analysed without retraining anything.
    """
    import tempfile
    from pathlib import Path

    ref = ref.strip()
    uri = settings.resolved_tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        # looking would create an empty store: bad input leaves nothing behind
        raise InputError(f"{argument}: no sweep has run yet (no tracking store at {uri})")
    client = tracking.client_for(settings)
    runs = _parent_runs(client, ref) if ref else []
    done = [r for r in runs if r.info.status == "FINISHED"]
    if not done:
        state = f" (it ended {runs[0].info.status})" if runs else ""
        raise InputError(
            f"{argument}: no finished sweep with sweep id or parent run id {ref!r} in the "
            f"tracking store {settings.resolved_tracking_uri}{state}"
        )
    if len({r.data.tags.get("sweep.id") for r in done}) > 1:
        raise InputError(f"{argument}: {ref!r} starts more than one sweep id; give more of it")
    run = done[0]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            config = Path(
                client.download_artifacts(run.info.run_id, "sweep/sweep_config.json", tmp)
            )
            results = Path(client.download_artifacts(run.info.run_id, "sweep/results.csv", tmp))
            config_json, table = config.read_text(), pd.read_csv(results)
        except Exception as exc:
            raise InputError(
                f"{argument}: sweep {ref!r} has no logged config or results table ({exc})"
            ) from None
    experiment = client.get_experiment(run.info.experiment_id).name
    return EarlierSweep(
        run_id=run.info.run_id,
        sweep_id=run.data.tags.get("sweep.id", ""),
        run_name=run.data.tags.get("mlflow.runName", run.info.run_name or ""),
        experiment=experiment,
        config_json=config_json,
        results=table,
        tags=dict(run.data.tags),
    )


# --- point records (they read and tag the training runs) --------------------------------


def _point_tags(
    sweep_id: str,
    index: int,
    model_uri: str = "",
    completed: bool = False,
    point: dict[str, Any] | None = None,
) -> dict[str, str]:
    tags = {"sweep.id": sweep_id, "sweep.point": str(index)}
    if point:  # the setting in short names, as the MLflow UI's runs table shows it
        tags["sweep.setting"] = Namer.of(list(point)).point(point)[:5000]
    if completed:
        tags["sweep.status"] = "completed"
    if model_uri:
        tags["sweep.model_uri"] = model_uri
    return tags


def reusable_points(
    settings: PlatformSettings,
    *,
    experiment: str,
    sweep_id: str,
    earlier: tuple[str, ...] = (),
) -> dict[str, tracking.ChildRun]:
    """Per point config digest, the run a point of this sweep may reuse (one look-up).

    The newest FINISHED run of the same sweep with that config, else of a
    study's `earlier` stages (in their order), among those recorded as
    completed or carrying a model; a point without one trains.
    """
    runs = tracking.sweep_point_runs(
        settings, experiment=experiment, sweep_ids=(sweep_id, *earlier)
    )
    found: dict[str, tracking.ChildRun] = {}
    for sid in dict.fromkeys((sweep_id, *earlier)):
        for run in runs.get(sid, []):  # newest first
            digest = run.tags.get("config_digest", "")
            usable = run.tags.get("sweep.model_uri") or run.tags.get("sweep.status") == "completed"
            if digest and usable and digest not in found:
                found[digest] = run
    return found


def reuse_point(
    found: tracking.ChildRun | None,
    *,
    index: int,
    point: dict[str, Any],
    metric: str,
    need_model: bool = False,
) -> PointResult | None:
    """The point recorded as reused from `found`; None when it must train.

    A lean point (no model) is reusable unless `need_model` (`log_models: all`).
    """
    if found is None:
        return None
    has_model = bool(found.tags.get("sweep.model_uri"))
    if not has_model and (need_model or found.tags.get("sweep.status") != "completed"):
        return None
    return PointResult(
        index=index,
        point=point,
        status="reused",
        metrics=found.metrics,
        objective=objective_value(found.metrics, metric),
        run_id=found.run_id,
        model_uri=found.tags.get("sweep.model_uri", ""),
        task_type=found.tags.get("task", ""),
        data_digest=found.tags.get("data.snapshot_sha256", ""),
    )


def record_point(
    settings: PlatformSettings,
    *,
    parent_run_id: str,
    sweep_id: str,
    index: int,
    point: dict[str, Any],
    config_digest: str,
    metric: str,
    model_uri: str,
    seconds: float,
    error: str = "",
    lean: bool = False,
    run_id: str = "",
) -> PointResult:
    """Find the point's child run under the parent, tag it with the sweep, and record it.

    Tagging after training (rather than inside the training flow) keeps the
    training flow unaware of sweeps; a completed point is reusable only once
    it carries `sweep.id` and its model URI.
    """
    child = (
        tracking.get_child_run(settings, run_id)  # the point's flow returned it
        if run_id
        else tracking.find_child_run(
            settings, parent_run_id=parent_run_id, config_digest=config_digest
        )
    )
    if child is None:
        return PointResult(
            index, point, "failed", error=error or "no training run found", seconds=seconds
        )
    failed = bool(error) or child.status != "FINISHED"
    # A deployment run returns no summary here: address its model through the run.
    # A lean point logged no model: the sweep logs the best one's afterwards.
    model_uri = model_uri or ("" if lean else f"runs:/{child.run_id}/model")
    objective = objective_value(child.metrics, metric)
    if not failed and objective is None:
        error, failed = f"objective metric {metric!r} was not computed by this run", True
    handle = tracking.RunHandle(
        child.run_id, child.experiment_id, settings.resolved_tracking_uri, ""
    )
    tracking.set_tags(
        handle,
        _point_tags(
            sweep_id, index, "" if failed else model_uri, completed=not failed, point=point
        ),
    )
    if failed:
        error = error or child.tags.get("error", f"run ended {child.status}")
    return PointResult(
        index=index,
        point=point,
        status="failed" if failed else "completed",
        metrics=child.metrics,
        objective=None if failed else objective,
        run_id=child.run_id,
        model_uri="" if failed else model_uri,
        task_type=child.tags.get("task", ""),
        data_digest=child.tags.get("data.snapshot_sha256", ""),
        error=error,
        seconds=seconds,
    )


__all__ = ["find_sweep", "record_point", "reusable_points", "reuse_point"]
