"""The next stage of a sequential study, planned from a finished sweep.

`python -m flows.sweep --fold-over | --augment | --next <sweep>` reads the
earlier sweep back (its logged config and results), re-analyses it here (no
retraining: the statistics are pure) and writes the next stage's
`SweepConfig`: the earlier design nested as the `first` stage (so its runs
are regenerated exactly and reused by their config digests) or, for
`--next`, the same design re-centred along the path of steepest ascent.

No Prefect and no MLflow here; `tasks.sweep.find_sweep` reads the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import ValidationError

from flows.sweep_config import (
    Study,
    StudyStage,
    SweepConfig,
    SweepPlan,
    plan_sweep,
)
from libs.config import apply_override, format_validation_error
from libs.doe import CategoricalFactor
from libs.doe.stages import active_factors, next_centre, recentred_factors
from libs.doe.structure import roman
from libs.doe.sweep import EarlierSweep, SweepAnalysis, analyse_points
from libs.errors import InputError

Step = Literal["fold_over", "augment", "next"]
ARGUMENT = {"fold_over": "--fold-over", "augment": "--augment", "next": "--next"}
TWO_LEVEL = ("full_factorial", "fractional_factorial", "plackett_burman")


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
    analysis = analyse_points(plan.design, config.space, values, config.objective.maximize)
    return config, plan, analysis


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


def _two_level_first(design: dict[str, Any], kind: str, argument: str, sweep: str) -> None:
    levels = design.get("levels", 2)
    many = (isinstance(levels, int) and levels > 2) or (
        isinstance(levels, dict) and any(v > 2 for v in levels.values())
    )
    if kind not in TWO_LEVEL or many:
        raise InputError(
            f"{argument}: sweep {sweep} is a {kind} design, not a two-level "
            f"{'fraction' if argument == '--fold-over' else 'factorial'} "
            f"({', '.join(TWO_LEVEL)}{'' if argument == '--fold-over' else ', fold_over'})"
        )


def _fold_over_design(config: SweepConfig, plan: SweepPlan, on: str | None) -> dict[str, Any]:
    design = config.design.model_dump(mode="json")
    sweep = plan.digest[:12]
    _two_level_first(design, config.design.kind, "--fold-over", sweep)
    res, full = plan.design.resolution, plan.design.regular and plan.design.resolution is None
    if full or (res is not None and res >= 5) or (on is None and res == 4):
        what = "a full factorial" if full else f"of resolution {roman(res)}"
        hint = " (--on FACTOR can still separate that factor's interactions)" if res == 4 else ""
        raise InputError(
            f"--fold-over: sweep {sweep} is {what}: its main effects are already free of "
            f"two-factor interactions, so a full fold-over separates nothing{hint}"
        )
    return {"kind": "fold_over", "first": design, "factor": on, "seed": config.design.seed}


def _augment_design(
    config: SweepConfig, plan: SweepPlan, analysis: SweepAnalysis, factors: Sequence[str]
) -> tuple[dict[str, Any], str]:
    design = config.design.model_dump(mode="json")
    kind = config.design.kind
    sweep = plan.digest[:12]
    if kind != "fold_over":
        _two_level_first(design, kind, "--augment", sweep)
    if factors:
        return {"kind": "augment_ccd", "first": design, "factors": list(factors)}, "as given"
    if analysis.result is None:
        raise InputError(
            f"--augment: sweep {sweep} has no analysis to choose the active factors from; "
            "name them with --factors"
        )
    categorical = {f.name for f in config.factors if isinstance(f, CategoricalFactor)}
    chosen, how = active_factors(analysis.result, exclude=categorical)
    return {"kind": "augment_ccd", "first": design, "factors": chosen}, how


def _next_factors(
    config: SweepConfig, plan: SweepPlan, analysis: SweepAnalysis
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    sweep = plan.digest[:12]
    if config.design.kind not in TWO_LEVEL:
        raise InputError(
            f"--next: sweep {sweep} is a {config.design.kind} design; the path of steepest "
            "ascent comes from a first-order (two-level) design"
        )
    if analysis.result is None:
        raise InputError(f"--next: sweep {sweep} has no analysis to take a path from")
    try:
        centre, how = next_centre(analysis.result, config.space)
    except InputError as exc:
        raise InputError(f"--next: sweep {sweep}: {exc}") from None
    natural = {n: config.space.factor(n).decode(v) for n, v in centre.items()}
    return recentred_factors(config.space, centre), natural, how


def next_stage(
    earlier: EarlierSweep,
    step: Step,
    *,
    on: str | None = None,
    factors: Sequence[str] = (),
    overrides: Sequence[str] = (),
) -> tuple[SweepConfig, list[str]]:
    """The next stage's config and what was decided, in words (for the CLI and the report)."""
    argument = ARGUMENT[step]
    config, plan, analysis = reanalyse(earlier, argument)
    data = config.resolved().model_dump(mode="json")
    said: list[str] = []
    stage = (len(config.study.stages) + 2) if config.study else 2
    if step == "fold_over":
        data["design"] = _fold_over_design(config, plan, on)
        said.append(f"stage {stage}: fold-over{f' on {on}' if on else ''} of {plan.design.kind}")
    elif step == "augment":
        data["design"], how = _augment_design(config, plan, analysis, factors)
        said.append(
            f"stage {stage}: central composite design in {', '.join(data['design']['factors'])} "
            f"({how})"
        )
    else:
        data["factors"], centre, how = _next_factors(config, plan, analysis)
        where = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in centre.items()
        )
        said.append(f"stage {stage}: {plan.design.kind} re-centred at {where} ({how})")
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


__all__ = ["ARGUMENT", "next_stage", "reanalyse"]
