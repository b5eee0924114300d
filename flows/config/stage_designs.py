"""The design of a fold-over, an augmentation to a CCD, or a re-centred --next stage,
from the finished stage before it (its config, plan and analysis)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flows.config.stage_runs import FIRST_ORDER, TWO_LEVEL, best_levels, coded_runs
from flows.config.sweep import SweepConfig, SweepPlan
from libs.doe import CategoricalFactor
from libs.doe.names import factor_choices, factor_named
from libs.doe.path import steepest_ascent_path
from libs.doe.stages import active_factors, recentred_factors
from libs.doe.structure import roman
from libs.doe.sweep import SweepAnalysis
from libs.errors import InputError


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


def typed_factor(argument: str, name: str, config: SweepConfig, plan: SweepPlan) -> str:
    """The factor a user typed after `argument`: its config key, short name or design letter."""
    names, letters = list(config.space.names), dict(plan.design.letters)
    found = factor_named(name, names, letters)
    if found is None:
        raise InputError(
            f"{argument}: {name!r} is not a factor of sweep {plan.digest[:12]} "
            f"(factors: {factor_choices(names, letters)})"
        )
    return found


def fold_over_design(config: SweepConfig, plan: SweepPlan, on: str | None) -> dict[str, Any]:
    design = config.design.model_dump(mode="json")
    sweep = plan.digest[:12]
    _two_level_first(design, config.design.kind, "--fold-over", sweep)
    if on is not None:
        on = typed_factor("--on", on, config, plan)
    res, full = plan.design.resolution, plan.design.regular and plan.design.resolution is None
    if full or (res is not None and res >= 5) or (on is None and res == 4):
        what = "a full factorial" if full else f"of resolution {roman(res)}"
        hint = " (--on FACTOR can still separate that factor's interactions)" if res == 4 else ""
        raise InputError(
            f"--fold-over: sweep {sweep} is {what}: its main effects are already free of "
            f"two-factor interactions, so a full fold-over separates nothing{hint}"
        )
    return {"kind": "fold_over", "first": design, "factor": on, "seed": config.design.seed}


def augment_design(
    config: SweepConfig, plan: SweepPlan, analysis: SweepAnalysis, factors: Sequence[str]
) -> tuple[dict[str, Any], str]:
    design = config.design.model_dump(mode="json")
    kind = config.design.kind
    sweep = plan.digest[:12]
    if kind != "fold_over":
        _two_level_first(design, kind, "--augment", sweep)
    if factors:
        named = [typed_factor("--factors", f, config, plan) for f in factors]
        return {"kind": "augment_ccd", "first": design, "factors": named}, "as given"
    if analysis.result is None:
        raise InputError(
            f"--augment: sweep {sweep} has no analysis to choose the active factors from; "
            "name them with --factors"
        )
    categorical = {f.name for f in config.factors if isinstance(f, CategoricalFactor)}
    chosen, how = active_factors(analysis.result, exclude=categorical)
    return {"kind": "augment_ccd", "first": design, "factors": chosen}, how


def next_factors(
    config: SweepConfig, plan: SweepPlan, values: Mapping[int, float]
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """The factors of the next first-order design: re-centred two steps along the path, or
    (after a path stage) at the path's best run."""
    sweep = plan.digest[:12]
    kind = plan.design.kind
    if kind == "gp":
        raise InputError(
            f"--next: sweep {sweep} is a GP stage: run another batch "
            f"(python -m flows.sweep --next {sweep} --model gp) or confirm its recommendation "
            f"(python -m flows.sweep --confirm {sweep})"
        )
    if kind not in FIRST_ORDER and kind != "path":
        raise InputError(
            f"--next: sweep {sweep} is a {kind} design (a fitted surface), so its best setting "
            f"is inside the region, not along a path: confirm its recommendation "
            f"(python -m flows.sweep --confirm {sweep}) or refine it with a model "
            f"(python -m flows.sweep --next {sweep} --model gp)"
        )
    if kind == "path":
        best = best_levels(config, plan, values)
        numeric = [f.name for f in config.space.factors if not isinstance(f, CategoricalFactor)]
        centre = {n: float(config.space.factor(n).encode(best[n])) for n in numeric if n in best}
        how = "centred on the best run of the path"
    else:
        coded, y, block = coded_runs(plan, values)
        try:
            path = steepest_ascent_path(
                coded, y, config.space, maximize=config.objective.maximize, steps=2, block=block
            )
        except InputError as exc:
            raise InputError(f"--next: sweep {sweep}: {exc}") from None
        row = path.settings[-1]
        centre = {n: float(config.space.factor(n).encode(row[n])) for n in path.factors}
        way = "ascent" if config.objective.maximize else "descent"
        how = f"step {len(path.settings) - 1} of the path of steepest {way}"
    natural = {n: config.space.factor(n).decode(v) for n, v in centre.items()}
    return recentred_factors(config.space, centre), natural, how


__all__ = ["augment_design", "fold_over_design", "next_factors", "typed_factor"]
