"""How a sweep is described: its parent run's parameters and tags, the study's stages,
the ranked results table, and the next stage's command."""

from __future__ import annotations

from typing import Any

from flows.config.sweep import SweepPlan
from libs.doe.names import factor_params
from libs.doe.stages import next_step_hint
from libs.doe.sweep import PointResult
from libs.doe.sweep import results_table as point_table
from libs.metrics.cost import COST_METRICS
from libs.studies import with_seeds


def sweep_params(plan: SweepPlan) -> dict[str, str]:
    """MLflow parameters of the parent run: the design, factors, objective and base config."""
    config = plan.config
    params = {
        "design.kind": plan.design.kind,
        "design.spec": config.design.model_dump_json(),
        "objective.metric": config.objective.metric,
        "objective.direction": "maximize" if config.objective.maximize else "minimize",
        "concurrency": str(plan.concurrency),
        "log_models": config.log_models,
        "mode": config.mode,
        "base.source": config.base or "(embedded defaults)",
    }
    # `factor.<short name>`, as the MLflow UI shows it; each value keeps the full config key
    params.update(factor_params(config.factors))
    params.update({f"base.{k}": v for k, v in plan.base.flat_params().items()})
    return params


def sweep_tags(plan: SweepPlan) -> dict[str, str]:
    """The parent run's tags; a study's later stage links the earlier stages' runs."""
    tags = {
        "sweep.id": plan.digest,
        "sweep.design": plan.design.kind,
        "sweep.n_points": str(len(plan.jobs)),
        "sweep.objective": plan.config.objective.metric,
        "sweep.role": "parent",
        "model_name": plan.base.registered_model_name,
    }
    if plan.config.responses:
        tags["sweep.responses"] = ",".join(r.metric for r in plan.config.responses)
    study = plan.config.study
    if study is None:
        tags |= {"study.id": plan.digest, "study.stage": "1", "study.step": "screen"}
    else:
        tags |= {
            "study.id": study.stages[0].sweep_id,
            "study.stage": str(study.stage),
            "study.step": study.step,
            "study.previous_run_id": study.stages[-1].run_id,
            "study.previous_run_ids": ",".join(s.run_id for s in study.stages),
            "study.previous_sweep_ids": ",".join(s.sweep_id for s in study.stages),
        }
    return tags


def next_command(plan: SweepPlan, analysis: Any) -> str:
    """The next stage's command: the analysis's hint; after a path, a design around its
    best run; after a GP batch, another batch (or --confirm, which every stage ends with)."""
    ref = plan.digest[:12]
    if plan.design.kind == "path":
        kind = plan.config.design.kind
        return f"python -m flows.sweep --next {ref} (a {kind} around the best run of the path)"
    if plan.design.kind == "gp":
        return (
            f"python -m flows.sweep --next {ref} --model gp (another batch by expected improvement)"
        )
    hint = next_step_hint(plan.design, analysis.result, plan.digest)
    if hint.startswith(f"python -m flows.sweep --next {ref} ("):
        # The textbook move: single runs along the path until the response stops improving
        way = "ascent" if plan.config.objective.maximize else "descent"
        return (
            f"python -m flows.sweep --path {ref} (single runs along the path of steepest "
            f"{way} until the response stops improving)"
        )
    if not hint and plan.design.kind in ("central_composite", "augment_ccd", "box_behnken"):
        return f"python -m flows.sweep --next {ref} --model gp (refine with a Gaussian process)"
    return hint


def response_words(plan: SweepPlan, metric: str) -> str:
    """What the analysis ranked on, in words."""
    if plan.folds:
        return f"{metric}: mean of {plan.folds}-fold cross-validation on the training split"
    return f"{metric} on the test split (cross-validation off)"


def points_cross_validate_only(plan: SweepPlan) -> bool:
    """Whether the points are lean and cross-validated: they fit their folds only, and the
    stage's completed best point alone is scored on the test split."""
    return bool(plan.folds) and plan.config.lean_points


def results_table(plan: SweepPlan, results: list[PointResult]) -> Any:
    """The results table, ranked on the response, with each run's split and training seed;
    when the points cross-validate, a `test split` column says which runs were scored on
    it (a completed best point: its `metric.<metric>` columns) and which left it untouched."""
    table = point_table(plan.design, results, plan.response(plan.config.objective.metric))
    seeds = {j.index: (j.config.split.seed, j.config.split.model_seed) for j in plan.jobs}
    table = with_seeds(table, seeds)
    if points_cross_validate_only(plan):
        metric = plan.config.objective.metric
        scored = {
            r.index
            for r in results
            if (r.model_uri if metric in COST_METRICS else metric in r.metrics)
        }
        table["test split"] = [
            "scored (completed best)"
            if int(p) in scored
            else ("untouched (cross-validated)" if status in ("completed", "reused") else "")
            for p, status in zip(table["point"], table["status"], strict=True)
        ]
    return table


def study_stages(plan: SweepPlan, parent_run_id: str) -> list[dict[str, str]]:
    """Every stage of the study up to this one, for the report's table."""
    study = plan.config.study
    rows = [
        {
            "stage": str(s.stage),
            "step": s.step,
            "design": s.design,
            "runs": str(s.runs),
            "sweep id": s.sweep_id[:12],
            "run": s.run_id,
        }
        for s in (study.stages if study else [])
    ]
    rows.append(
        {
            "stage": str(study.stage if study else 1),
            "step": study.step if study else "screen",
            "design": plan.design.kind,
            "runs": str(len(plan.design)),
            "sweep id": plan.digest[:12],
            "run": f"{parent_run_id} (this run)",
        }
    )
    return rows


__all__ = [
    "next_command",
    "points_cross_validate_only",
    "response_words",
    "results_table",
    "study_stages",
    "sweep_params",
    "sweep_tags",
]
