"""The best point of a sweep: its model and report completed, then through the gate."""

from __future__ import annotations

import dataclasses

from flows.config.sweep import SweepPlan
from flows.runs.point_training import error_line
from flows.runs.sweep_labels import points_cross_validate_only
from flows.runs.train import training_flow
from libs.doe.sweep import PointResult
from libs.settings import PlatformSettings
from tasks import sweep as st
from tasks.register import Registration, register_model


def complete_best(
    plan: SweepPlan, parent_run_id: str, best: PointResult | None, settings: PlatformSettings
) -> tuple[PointResult | None, str]:
    """Log the report and model of the best point into its run, if it has none yet.

    A training sub-flow run of the best point's config, completing its lean
    MLflow run: ingest and features come from the cache; a point that only
    cross-validated is fitted on the whole training split here and scored on
    the test split (the only point of the stage that is). Returns the point with
    its model URI and its test scores added to its metrics (the gate reads
    them), and an error line if that failed.
    """
    if best is None or not best.run_id or best.model_uri:
        return best, ""
    job = plan.jobs[best.index]
    try:
        training = training_flow(job.config.model.framework)
        done = training(
            job.config,
            parent_run_id=parent_run_id,
            complete_run_id=best.run_id,
            settings=settings,
        )
        st.tag_point_model(settings, best.run_id, done.model_uri)
    except Exception as exc:
        return best, f"the best point's model was not logged: {error_line(exc, 460)}"
    metrics = {**best.metrics, **done.metrics}
    return dataclasses.replace(best, model_uri=done.model_uri, metrics=metrics), ""


def with_completed(results: list[PointResult], best: PointResult | None) -> list[PointResult]:
    """The results with the best point as `complete_best` returned it (its test scores)."""
    if best is None:
        return results
    return [best if r.index == best.index else r for r in results]


def holdout_note(plan: SweepPlan, best: PointResult | None) -> dict[str, str]:
    """The report's line on the test split when the points cross-validate: only the
    completed best point is scored on it, the others leave it untouched."""
    if not points_cross_validate_only(plan):
        return {}
    metric = plan.config.objective.metric
    value = best.metrics.get(metric) if best is not None else None
    others = f"cross-validated only ({plan.folds} folds), the test split untouched"
    if best is None or value is None:
        return {"test split": f"no point scored on it: every point {others}"}
    return {
        "test split": f"{metric}={value:.4g} for the best point #{best.index} (fitted on the "
        f"whole training split); every other point {others}"
    }


def register_best(
    plan: SweepPlan, parent_run_id: str, best: PointResult | None, settings: PlatformSettings
) -> tuple[Registration | None, str]:
    """The best point's model through the registry gate, registered only when it would beat
    the champion (at most one version per stage). Returns the registration, if any, and
    why there is none when the gate refused it."""
    base = plan.base
    registration: Registration | None = None
    gate_reason = ""
    gated = plan.config.register_best and best is not None and best.run_id and best.model_uri
    decision = (
        st.gate_check(
            settings,
            best.run_id,
            name=base.registered_model_name,
            gate=base.gate,
            task_type=best.task_type,
            metrics=best.metrics,
        )
        if gated and best is not None and best.run_id
        else None
    )
    if decision is not None and not decision.promote:
        gate_reason = f"not registered: {decision.reason}"
    if gated and (decision is None or decision.promote) and best is not None and best.run_id:
        registration = register_model(
            st.child_run(settings, best.run_id),
            name=base.registered_model_name,
            model_uri=best.model_uri,
            gate=base.gate,
            task_type=best.task_type,
            metrics=best.metrics,
            tags={
                "config_digest": best.run_id and plan.jobs[best.index].config_digest,
                "data_sha256": best.data_digest,
                "sweep.id": plan.digest,
                "sweep.parent_run_id": parent_run_id,
            },
            settings=settings,
        )
    return registration, gate_reason


__all__ = ["complete_best", "holdout_note", "register_best", "with_completed"]
