"""The next stage of a sequential study, planned from a finished sweep.

`python -m flows.sweep --fold-over | --augment | --next <sweep>` reads the
earlier sweep back (its logged config and results), re-analyses it here (no
retraining: the statistics are pure) and writes the next stage's
`SweepConfig`: the earlier design nested as the `first` stage (so its runs
are regenerated exactly and reused by their config digests) or, for
`--next`, the same design re-centred along the path of steepest ascent.

No Prefect and no MLflow here; `tasks.sweep_records.find_sweep` reads the store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd
from pydantic import ValidationError

from flows.config.stage_augment import optimal_augmentation
from flows.config.sweep import SweepConfig, SweepPlan, plan_sweep
from flows.config.sweep_schema import Study, StudyStage
from libs.config import apply_override, format_validation_error
from libs.doe import CategoricalFactor, IntegerFactor
from libs.doe.gp import propose_gp
from libs.doe.names import factor_choices, factor_named
from libs.doe.path import steepest_ascent_path
from libs.doe.stages import active_factors, recentred_factors
from libs.doe.structure import roman
from libs.doe.sweep import EarlierSweep, PointResult, SweepAnalysis, analyse_points
from libs.errors import InputError
from libs.studies import MODEL_STAGES, best_setting, fmt_value
from libs.study_recommendation import stage_recommendation

Step = Literal["fold_over", "augment", "next", "path", "gp"]
ARGUMENT = {
    "fold_over": "--fold-over",
    "augment": "--augment",
    "next": "--next",
    "path": "--path",
    "gp": "--next --model gp",
}
TWO_LEVEL = ("full_factorial", "fractional_factorial", "plackett_burman")
# Designs a first-order path is taken from (a fold-over is two fractions merged).
FIRST_ORDER = (*TWO_LEVEL, "fold_over")
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


def _done(plan: SweepPlan, values: Mapping[int, float]) -> list[int]:
    return sorted(i for i, v in values.items() if i < len(plan.design) and math.isfinite(v))


def _coded_runs(
    plan: SweepPlan, values: Mapping[int, float]
) -> tuple[pd.DataFrame, list[float], list[int] | None]:
    """The completed runs of a stage: coded rows, responses and stage blocks (if several)."""
    used = _done(plan, values)
    coded = plan.design.coded.iloc[used].reset_index(drop=True)
    block = [plan.design.block[i] for i in used] if plan.design.block else None
    if block is not None and len(set(block)) < 2:
        block = None
    return coded, [float(values[i]) for i in used], block


def _best_levels(
    config: SweepConfig, plan: SweepPlan, values: Mapping[int, float]
) -> dict[str, Any]:
    """Every factor at the level the stage found best: its recommendation, else its best run."""
    recommendation, _ = stage_recommendation(
        plan.design, config.space, values, config.objective.maximize
    )
    if recommendation is not None:
        return dict(recommendation.settings)
    results = [
        PointResult(i, plan.design.points[i], "completed", objective=values[i])
        for i in _done(plan, values)
    ]
    best = best_setting(results, config.objective.maximize)
    return dict(best.run.point) if best else {}


def _path_runs(
    config: SweepConfig, plan: SweepPlan, values: Mapping[int, float], steps: int, stage: int
) -> tuple[dict[str, Any], str]:
    """The `runs` of a path stage: single runs along the path of steepest ascent."""
    sweep = plan.digest[:12]
    kind = plan.design.kind
    if kind not in FIRST_ORDER:
        what = "a path stage" if kind in MODEL_STAGES else f"a {kind} design"
        raise InputError(
            f"--path: sweep {sweep} is {what}; the path of steepest ascent comes from a "
            f"first-order (two-level) design ({', '.join(FIRST_ORDER)})"
        )
    coded, y, block = _coded_runs(plan, values)
    try:
        path = steepest_ascent_path(
            coded, y, config.space, maximize=config.objective.maximize, steps=steps, block=block
        )
    except InputError as exc:
        raise InputError(f"--path: sweep {sweep}: {exc}") from None
    points = [dict(p) for p in path.settings]
    runs = {"kind": "path", "points": points, "block": [stage] * len(points), "new": len(points)}
    moved = ", ".join(path.factors)
    stopped = f"; {path.stopped}" if path.stopped else ""
    region = f"; {path.region_note()}" if path.region_note() else ""
    return runs, (
        f"{len(points)} runs along the path in {moved} ({path.significance}{stopped}{region})"
    )


def lineage_ids(earlier: EarlierSweep) -> list[str]:
    """The sweep ids of the stages before `earlier` in its study (oldest first)."""
    try:
        config = SweepConfig.model_validate_json(earlier.config_json)
    except (ValidationError, ValueError):
        return []
    stages = config.study.stages if config.study else []
    return [s.sweep_id for s in stages if s.sweep_id and s.sweep_id != earlier.sweep_id]


def _study_runs(
    config: SweepConfig,
    plan: SweepPlan,
    values: Mapping[int, float],
    earlier: EarlierSweep | None,
    history: Sequence[EarlierSweep],
) -> tuple[list[dict[str, Any]], list[float], list[int]]:
    """Every completed run of the study: the earlier stages' (a --next design or a path is
    not nested in the stage after it) and this stage's, each training run once (by its
    MLflow run id: a reused run appears in every stage that nests it)."""
    names = config.space.names
    response = plan.response(config.objective.metric)
    seen: set[str] = set()
    points: list[dict[str, Any]] = []
    y: list[float] = []
    blocks: list[int] = []

    def add(point: Mapping[str, Any], value: float, run_id: str, block: int) -> None:
        key = run_id or f"{sorted(point.items())}={value}"
        if key in seen or any(n not in point for n in names):
            return
        seen.add(key)
        points.append({n: point[n] for n in names})
        y.append(value)
        blocks.append(block)

    for number, old in enumerate(history, 1):
        table = old.results
        got = old.responses(response)
        if not got:
            continue
        for _, row in table[table["point"].isin(list(got))].iterrows():
            point = {n: _plain(config, n, row[n]) for n in names if n in row}
            add(point, got[int(row["point"])], _run_ids(table).get(int(row["point"]), ""), number)
    ids = _run_ids(earlier.results) if earlier is not None else {}
    for i in _done(plan, values):
        block = plan.design.block[i] if plan.design.block else len(history) + 1
        add(plan.design.points[i], float(values[i]), ids.get(i, ""), block)
    return points, y, blocks


def _run_ids(table: pd.DataFrame) -> dict[int, str]:
    """Point -> its MLflow run id ("" when none was logged)."""
    if "run_id" not in table:
        return {}
    return {
        int(p): (r if isinstance(r, str) else "")
        for p, r in zip(table["point"], table["run_id"], strict=True)
    }


def _plain(config: SweepConfig, name: str, value: Any) -> Any:
    """A value read back from the results CSV as the factor trains it (an integer factor's
    value as an int, so a reused run keeps its config digest)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(config.space.factor(name), IntegerFactor) and isinstance(value, float):
        return round(value)
    return value


def _gp_runs(
    config: SweepConfig,
    plan: SweepPlan,
    values: Mapping[int, float],
    n: int,
    stage: int,
    earlier: EarlierSweep | None = None,
    history: Sequence[EarlierSweep] = (),
) -> tuple[dict[str, Any], str]:
    """The `runs` of a GP stage: every completed run of the study so far (reused) and `n`
    proposals. `history`: the study's stages before `earlier` (their runs count too)."""
    earlier_points, y, blocks = _study_runs(config, plan, values, earlier, history)
    used = list(range(len(y)))
    if len(used) < 3:
        raise InputError(
            f"--next --model gp: sweep {plan.digest[:12]} has {len(used)} completed runs; "
            "a Gaussian process needs at least 3"
        )
    try:
        proposals = propose_gp(
            earlier_points, y, config.space, config.objective.maximize, n=n, seed=config.design.seed
        )
    except InputError as exc:
        raise InputError(f"--next --model gp: {exc}") from None
    if not proposals:
        raise InputError(
            f"--next --model gp: sweep {plan.digest[:12]} has tried every setting of its space"
        )
    new = [dict(p.settings) for p in proposals]
    runs = {
        "kind": "gp",
        "points": earlier_points + new,
        "block": blocks + [stage] * len(new),
        "new": len(new),
    }
    top = max(p.expected_improvement for p in proposals)
    return runs, (
        f"{len(new)} runs by expected improvement (largest {top:.3g}) from a Gaussian process "
        f"fitted to the {len(used)} runs so far"
    )


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


def _factor_named(argument: str, name: str, config: SweepConfig, plan: SweepPlan) -> str:
    """The factor a user typed after `argument`: its config key, short name or design letter."""
    names, letters = list(config.space.names), dict(plan.design.letters)
    found = factor_named(name, names, letters)
    if found is None:
        raise InputError(
            f"{argument}: {name!r} is not a factor of sweep {plan.digest[:12]} "
            f"(factors: {factor_choices(names, letters)})"
        )
    return found


def _fold_over_design(config: SweepConfig, plan: SweepPlan, on: str | None) -> dict[str, Any]:
    design = config.design.model_dump(mode="json")
    sweep = plan.digest[:12]
    _two_level_first(design, config.design.kind, "--fold-over", sweep)
    if on is not None:
        on = _factor_named("--on", on, config, plan)
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
        named = [_factor_named("--factors", f, config, plan) for f in factors]
        return {"kind": "augment_ccd", "first": design, "factors": named}, "as given"
    if analysis.result is None:
        raise InputError(
            f"--augment: sweep {sweep} has no analysis to choose the active factors from; "
            "name them with --factors"
        )
    categorical = {f.name for f in config.factors if isinstance(f, CategoricalFactor)}
    chosen, how = active_factors(analysis.result, exclude=categorical)
    return {"kind": "augment_ccd", "first": design, "factors": chosen}, how


def _next_factors(
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
        best = _best_levels(config, plan, values)
        numeric = [f.name for f in config.space.factors if not isinstance(f, CategoricalFactor)]
        centre = {n: float(config.space.factor(n).encode(best[n])) for n in numeric if n in best}
        how = "centred on the best run of the path"
    else:
        coded, y, block = _coded_runs(plan, values)
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
        data["design"] = _fold_over_design(config, plan, on)
        said.append(f"stage {stage}: fold-over{f' on {on}' if on else ''} of {plan.design.kind}")
    elif step == "augment" and to == "optimal":
        named = [_factor_named("--factors", f, config, plan) for f in factors]
        best = _best_levels(config, plan, values)
        data["design"], lines = optimal_augmentation(config, named, runs, model, best)
        said += [f"stage {stage}: {line.split(': ', 1)[-1]}" for line in lines]
    elif step == "augment":
        data["design"], how = _augment_design(config, plan, analysis, factors)
        held = _best_levels(config, plan, values)
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
        data["runs"], how = _path_runs(config, plan, values, steps or DEFAULT_PATH_STEPS, stage)
        said.append(f"stage {stage}: {how}")
    elif step == "gp":
        data["runs"], how = _gp_runs(
            config, plan, values, runs or DEFAULT_GP_RUNS, stage, earlier, history
        )
        said.append(f"stage {stage}: {how}")
    else:
        data["factors"], centre, how = _next_factors(config, plan, values)
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


__all__ = ["ARGUMENT", "lineage_ids", "next_stage", "reanalyse"]
