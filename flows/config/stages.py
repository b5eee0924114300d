"""The next stage of a sequential study, planned from a finished sweep.

`python -m flows.sweep --fold-over | --augment | --next <sweep>` reads the
earlier sweep back (its logged config and results), re-analyses it here (no
retraining: the statistics are pure) and writes the next stage's
`SweepConfig`: the earlier design nested as the `first` stage (so its runs
are regenerated exactly and reused by their config digests) or, for
`--next`, the same design re-centred along the path of steepest ascent.
The designs are drawn in `stage_designs`, a path's or GP batch's runs in
`stage_runs`, a D-optimal augmentation in `stage_augment`.

No Prefect and no MLflow here; `tasks.sweep_records.find_sweep` reads the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import ValidationError

from flows.config.stage_augment import optimal_augmentation
from flows.config.stage_designs import augment_design, fold_over_design, next_factors, typed_factor
from flows.config.stage_runs import best_levels, gp_runs, path_runs
from flows.config.sweep import SweepConfig, SweepPlan, plan_sweep
from flows.config.sweep_schema import Study, StudyStage
from libs.config import apply_override, format_validation_error
from libs.doe.sweep import EarlierSweep, SweepAnalysis, analyse_points
from libs.errors import InputError
from libs.studies import MODEL_STAGES, fmt_value

Step = Literal["fold_over", "augment", "next", "path", "gp"]
ARGUMENT = {
    "fold_over": "--fold-over",
    "augment": "--augment",
    "next": "--next",
    "path": "--path",
    "gp": "--next --model gp",
}
SURFACES = ("central_composite", "augment_ccd", "box_behnken", "latin_hypercube")
DEFAULT_PATH_STEPS = 8
DEFAULT_GP_RUNS = 4


def earlier_config(earlier: EarlierSweep, argument: str) -> SweepConfig:
    try:
        return SweepConfig.model_validate_json(earlier.config_json)
    except (ValidationError, ValueError) as exc:
        raise InputError(
            f"{argument}: sweep {earlier.sweep_id[:12]}'s logged config no longer validates: "
            f"{str(exc).splitlines()[0]}"
        ) from None


def reanalyse(earlier: EarlierSweep, argument: str) -> tuple[SweepConfig, SweepPlan, SweepAnalysis]:
    """The earlier sweep's config, plan and the analysis of its objective (no training)."""
    config = earlier_config(earlier, argument)
    try:
        plan = plan_sweep(config, f"{argument} {earlier.sweep_id[:12]}")
    except InputError as exc:
        raise InputError(f"{argument}: the earlier sweep no longer plans: {exc}") from None
    values = earlier.responses(plan.response(config.objective.metric))  # cv.<metric>
    if plan.design.kind in MODEL_STAGES:  # a path or a GP batch is no factorial design
        return config, plan, SweepAnalysis(plan.design.kind, len(values), 0)
    analysis = analyse_points(plan.design, config.space, values, config.objective.maximize)
    return config, plan, analysis


def lineage_ids(earlier: EarlierSweep) -> list[str]:
    """The sweep ids of the stages before `earlier` in its study (oldest first)."""
    try:
        config = SweepConfig.model_validate_json(earlier.config_json)
    except (ValidationError, ValueError):
        return []
    stages = config.study.stages if config.study else []
    return [s.sweep_id for s in stages if s.sweep_id and s.sweep_id != earlier.sweep_id]


def _lineage(earlier: EarlierSweep, config: SweepConfig, plan: SweepPlan, step: Step) -> Study:
    before = list(config.study.stages) if config.study else []
    this = StudyStage(
        stage=len(before) + 1,
        step=config.study.step if config.study else "screen",
        run_id=earlier.run_id,
        sweep_id=earlier.sweep_id,
        design=plan.design.kind,
        runs=len(plan.design),
    )
    return Study(step=step, stages=[*before, this])


def next_stage(
    earlier: EarlierSweep,
    step: Step,
    *,
    on: str | None = None,
    factors: Sequence[str] = (),
    overrides: Sequence[str] = (),
    steps: int | None = None,
    runs: int | None = None,
    history: Sequence[EarlierSweep] = (),
    to: Literal["ccd", "optimal"] = "ccd",
    model: str | None = None,
) -> tuple[SweepConfig, list[str]]:
    """The next stage's config and what was decided, in words (for the CLI and the report).

    `to`: what an augmentation reaches (a CCD, or `runs` D-optimal runs for `model`).

    `steps`: the most runs along a path (--path); `runs`: a GP batch's size. `history`:
    the study's earlier stages (`lineage_ids`, read back): a GP stage models every run of
    the study, not only the last stage's.
    """
    argument = ARGUMENT[step]
    config, plan, analysis = reanalyse(earlier, argument)
    values = earlier.responses(plan.response(config.objective.metric))
    data = config.resolved().model_dump(mode="json")
    data["runs"] = None  # a path or GP stage's runs are its own
    said: list[str] = []
    stage = (len(config.study.stages) + 2) if config.study else 2
    if step in ("fold_over", "augment") and plan.design.kind in MODEL_STAGES:
        raise InputError(
            f"{argument}: sweep {plan.digest[:12]} is a {plan.design.kind} stage; run a design "
            f"around its best run first (python -m flows.sweep --next {plan.digest[:12]})"
        )
    if step == "fold_over":
        data["design"] = fold_over_design(config, plan, on)
        said.append(f"stage {stage}: fold-over{f' on {on}' if on else ''} of {plan.design.kind}")
    elif step == "augment" and to == "optimal":
        named = [typed_factor("--factors", f, config, plan) for f in factors]
        best = best_levels(config, plan, values)
        data["design"], lines = optimal_augmentation(config, named, runs, model, best)
        said += [f"stage {stage}: {line.split(': ', 1)[-1]}" for line in lines]
    elif step == "augment":
        data["design"], how = augment_design(config, plan, analysis, factors)
        held = best_levels(config, plan, values)
        surface = set(data["design"]["factors"])
        data["design"]["hold"] = {k: v for k, v in held.items() if k not in surface}
        said.append(
            f"stage {stage}: central composite design in {', '.join(data['design']['factors'])} "
            f"({how})"
        )
        if data["design"]["hold"]:
            at = ", ".join(f"{k}={fmt_value(v)}" for k, v in data["design"]["hold"].items())
            said.append(f"stage {stage}: the added runs hold {at} (the best levels so far)")
    elif step == "path":
        data["runs"], how = path_runs(config, plan, values, steps or DEFAULT_PATH_STEPS, stage)
        said.append(f"stage {stage}: {how}")
    elif step == "gp":
        data["runs"], how = gp_runs(
            config, plan, values, runs or DEFAULT_GP_RUNS, stage, earlier, history
        )
        said.append(f"stage {stage}: {how}")
    else:
        data["factors"], centre, how = next_factors(config, plan, values)
        where = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in centre.items()
        )
        said.append(f"stage {stage}: {config.design.kind} re-centred at {where} ({how})")
    root = (config.name or plan.run_name).split(" / ")[0]
    data["name"] = f"{root} / stage {stage} ({step.replace('_', '-')})"
    data["study"] = _lineage(earlier, config, plan, step).model_dump(mode="json")
    for assignment in overrides:
        data = apply_override(data, assignment)
    try:
        new = SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, argument, SweepConfig)) from None
    except InputError as exc:
        raise InputError(f"{argument}: {exc}") from None
    return new, said


__all__ = ["ARGUMENT", "earlier_config", "lineage_ids", "next_stage", "reanalyse"]
