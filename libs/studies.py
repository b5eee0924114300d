"""A study stage's outcome as values: the ranked settings, the recommendation, the summary.

Pure records and functions (no tracking): the sweep flow ranks its points
here, the command line prints `stage_lines`, and `flows.api` returns these
types so a notebook never parses printed text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from libs.doe.names import Namer
from libs.doe.recommend import Recommendation, recommend
from libs.doe.runs import Design
from libs.doe.space import CategoricalFactor, FactorSpace
from libs.doe.summary import SweepSummary, namer, summary_lines
from libs.doe.sweep import PointResult
from libs.errors import InputError


@dataclass(frozen=True)
class BestSetting:
    """The best setting of a stage by its mean over replicated runs, and the run standing
    for it (its first completed run: the model registered or confirmed)."""

    run: PointResult
    mean: float
    runs: int
    indices: tuple[int, ...]


def setting_key(point: Mapping[str, Any]) -> str:
    return json.dumps(dict(point), sort_keys=True, default=str)


def best_setting(results: Sequence[PointResult], maximize: bool) -> BestSetting | None:
    """The setting with the best mean objective over its completed runs; ties go to the
    earlier setting. Replicates of one setting are compared by their mean, never by their
    luckiest run."""
    groups: dict[str, list[PointResult]] = {}
    for r in results:
        if r.ok:
            groups.setdefault(setting_key(r.point), []).append(r)
    if not groups:
        return None
    sign = 1.0 if maximize else -1.0

    def score(runs: list[PointResult]) -> tuple[float, int]:
        mean = sum(float(r.objective or 0.0) for r in runs) / len(runs)
        return sign * mean, -min(r.index for r in runs)

    runs = max(groups.values(), key=score)
    runs = sorted(runs, key=lambda r: r.index)
    mean = sum(float(r.objective or 0.0) for r in runs) / len(runs)
    return BestSetting(runs[0], mean, len(runs), tuple(r.index for r in runs))


def with_seeds(table: pd.DataFrame, seeds: Mapping[int, tuple[int, int]]) -> pd.DataFrame:
    """The results table with each run's split seed and training seed after its factors,
    so a reader sees which runs shared a split."""
    out = table.copy()
    at = list(out.columns).index("status") if "status" in out.columns else len(out.columns)
    points = [int(p) for p in out["point"]]
    out.insert(at, "train seed", [seeds.get(p, (0, 0))[1] for p in points])
    out.insert(at, "split seed", [seeds.get(p, (0, 0))[0] for p in points])
    return out


def response_view(results: Sequence[PointResult], names: Mapping[str, str]) -> list[PointResult]:
    """The results with each response read from its logged name (`r2` from `cv.r2`), so an
    analysis that names responses as the user does sees the cross-validated values."""
    out = []
    for r in results:
        metrics = dict(r.metrics)
        for name, logged in names.items():
            if logged != name:
                value = r.metrics.get(logged)
                if value is None or not math.isfinite(value):
                    metrics.pop(name, None)
                else:
                    metrics[name] = value
        out.append(replace(r, metrics=metrics))
    return out


MODEL_STAGES = ("path", "gp")


def explicit_design(
    space: FactorSpace, kind: str, points: Sequence[Mapping[str, Any]], block: Sequence[int] = ()
) -> Design:
    """A `Design` of given runs (a path, a GP batch with the earlier runs), in that order.

    The points are taken as they are (a path runs beyond the factors' ranges:
    nothing is clipped); each must name every factor of the space. Runs at the
    same setting count as replicates, as in a generated design.
    """
    names = space.names
    rows: list[dict[str, Any]] = []
    for i, point in enumerate(points):
        missing = [n for n in names if n not in point]
        unknown = [n for n in point if n not in names]
        if missing or unknown:
            what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
            raise InputError(f"runs.points[{i}]: {what} (each run names every factor)")
        rows.append({n: point[n] for n in names})
    coded = pd.DataFrame([space.encode(p) for p in rows], columns=names, dtype=float).round(12)
    replicate, counts = [], {}  # type: ignore[var-annotated]
    for row in rows:
        key = setting_key(row)
        replicate.append(counts.get(key, 0))
        counts[key] = counts.get(key, 0) + 1
    if block and len(block) != len(rows):
        raise InputError(f"runs.block: {len(block)} values for {len(rows)} runs")
    return Design(
        kind=kind,
        coded=coded,
        points=rows,
        requested_runs=len(rows),
        duplicates_removed=0,
        standard_order=tuple(range(len(rows))),
        replicate=tuple(replicate),
        center_points=int((coded.abs().max(axis=1) < 1e-9).sum()),
        block=tuple(int(b) for b in block),
    )


def best_run_recommendation(best: BestSetting, maximize: bool, why: str) -> Recommendation:
    """A recommendation of the best run itself (a path stage: no model to predict with).

    Its interval is undefined from one run (NaN): the confirmation then reports
    the scores without an inside/outside verdict.
    """
    return Recommendation(
        settings=dict(best.run.point),
        predicted=best.mean,
        interval=(math.nan, math.nan),
        source="best run",
        reason=why,
        maximize=maximize,
        runs=best.runs,
    )


def stage_recommendation(
    design: Design, space: FactorSpace, responses: Mapping[int, float], maximize: bool
) -> tuple[Recommendation | None, str]:
    """The stage's recommendation from its completed runs (every stage of the study the
    design nests), or None and the one line saying why there is none.

    A surface design's factors are the surface (`design.active`); the other
    factors are held where the runs put them best, and the recommendation says so.
    """
    used = sorted(i for i, v in responses.items() if v is not None and math.isfinite(v))
    if design.kind == "path" and used:
        runs = [
            PointResult(i, design.points[i], "completed", objective=float(responses[i]))
            for i in used
        ]
        best = best_setting(runs, maximize)
        assert best is not None
        why = (
            f"the best run along the path of steepest {'ascent' if maximize else 'descent'} "
            f"(step {best.run.index}); a path has no model to predict with"
        )
        return best_run_recommendation(best, maximize, why), ""
    if len(used) < 2:
        return None, "recommendation: fewer than two completed runs"
    coded = design.coded.iloc[used].reset_index(drop=True)
    y = [float(responses[i]) for i in used]
    block = [design.block[i] for i in used] if design.block else None
    if block is not None and (len(set(block)) < 2 or design.kind == "gp"):
        # a GP batch is no block of a design: its runs share the study's split and folds, and
        # a batch term would absorb the very difference the batch was proposed to find
        block = None
    numeric = [
        n
        for n in design.active
        if n in coded.columns
        and coded[n].nunique() > 1
        and not isinstance(space.factor(n), CategoricalFactor)
    ]
    try:
        return recommend(
            coded,
            y,
            space,
            maximize=maximize,
            factors=numeric or None,
            block=block,
            # a GP stage's runs crowd where the optimiser looked: its pick is at least the
            # best observed setting unless a well-fitting model predicts a better one
            at_least_best_run=design.kind == "gp",
        ), ""
    except InputError as exc:
        return None, f"recommendation: {exc}"


def recommendation_dict(recommendation: Recommendation) -> dict[str, Any]:
    """The recommendation as JSON-ready values (the stage logs it beside its results)."""
    return {
        "settings": recommendation.settings,
        "predicted": recommendation.predicted,
        "interval": list(recommendation.interval),
        "source": recommendation.source,
        "reason": recommendation.reason,
        "held": recommendation.held,
        "level": recommendation.level,
    }


def fmt_value(value: Any) -> str:
    """A setting's value with the digits that mean something (integers as integers)."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return f"{value:.4g}"


def short_name(name: str) -> str:
    """A factor's short name: the last part of its dotted path (`model.params.C` -> `C`)."""
    return name.rsplit(".", 1)[-1]


def recommendation_lines(recommendation: Any, metric: str) -> list[tuple[str, str]]:
    """`(label, text)` lines of a recommendation: every factor, held ones said, the interval."""
    if recommendation is None:
        return []
    settings = dict(recommendation.settings)
    held = _held(recommendation)
    at = ", ".join(f"{k}={fmt_value(v)}" for k, v in settings.items())
    low, high = recommendation.interval
    interval = (
        f"95% prediction interval [{low:.4g}, {high:.4g}]"
        if math.isfinite(low) and math.isfinite(high)
        else "no prediction interval (a single run has no spread)"
    )
    lines = [
        ("Recommendation", at),
        (
            "Predicted",
            f"{metric}={recommendation.predicted:.4g}, {interval} ({recommendation.source})",
        ),
    ]
    if held:
        lines.append(("Held", "; ".join(f"{k}: {why}" for k, why in held.items())))
    if getattr(recommendation, "reason", ""):
        lines.append(("Why", str(recommendation.reason)))
    return lines


def _held(recommendation: Any) -> dict[str, str]:
    """Factor -> why it was held, from a recommendation's `held` (names, or name -> reason)."""
    held = getattr(recommendation, "held", None) or {}
    if isinstance(held, Mapping):
        return {str(k): str(v) for k, v in held.items()}
    return {str(k): "held at the level the study found best" for k in held}


def confirm_command(sweep_id: str, runs: int = 3) -> str:
    return f"python -m flows.sweep --confirm {sweep_id[:12]} --runs {runs}"


@dataclass(frozen=True)
class StageSummary(SweepSummary):
    """A sweep's summary with what a study stage adds: the response it ranked on, the
    recommendation with its prediction interval, the effects table and the commands that
    confirm it or go on."""

    response: str = ""  # "r2, mean of 5-fold cross-validation on the training split"
    recommendation: Any = None  # libs.doe Recommendation
    effects: pd.DataFrame | None = None
    confirm: str = ""  # the exact --confirm command
    best_runs: int = 1  # runs behind the best setting's mean
    step: str = "screen"

    @property
    def best_params(self) -> dict[str, Any]:
        """The best setting by its mean response, every factor by name (as Optuna's
        `study.best_params`)."""
        return dict(self.best_point or {})

    @property
    def next_command(self) -> str:
        """The next stage's command alone (without the words in brackets after it)."""
        return self.next_step.split(" (", 1)[0]

    def __str__(self) -> str:
        """The summary as the terminal prints it: short names, values rounded by range."""
        said = namer(self)
        return "\n".join(said.text(line) for line in stage_lines(self))

    def _repr_markdown_(self) -> str:  # a notebook shows it as the Prefect UI does
        return stage_markdown(self)


def stage_lines(s: SweepSummary) -> list[str]:
    """The sweep's summary lines, then (a study stage) its recommendation and the exact
    command that confirms it, last, so the terminal ends with the next thing to run."""
    lines = summary_lines(s)
    if not isinstance(s, StageSummary):
        return lines
    extra: list[tuple[str, str]] = []
    if s.response:
        extra.append(("Response", s.response))
    extra += recommendation_lines(s.recommendation, s.metric)
    if s.confirm:
        extra.append(("Confirm", s.confirm))
    if not extra:
        return lines
    width = max(len(k) for k, _ in extra) + 2
    width = max(width, len(lines[0].split(":", 1)[0]) + 2 if lines else 0)
    return lines + [f"{k + ':':<{width}}{v}" for k, v in extra]


def stage_markdown(s: SweepSummary) -> str:
    """The summary as the Prefect UI shows it: in short factor names, as the terminal does."""
    said = namer(s)
    lines = [said.text(line) for line in stage_lines(s)]
    rows = "\n".join(
        f"| {line.split(':', 1)[0]} | {line.split(':', 1)[1].strip()} |" for line in lines
    )
    return f"# DOE sweep {s.sweep_id[:12]}\n\n| | |\n|---|---|\n{rows}\n"


@dataclass(frozen=True)
class ConfirmationRun:
    """One confirmation training: its training seed, test score and whether it is inside."""

    train_seed: int
    value: float | None
    inside: bool | None
    run_id: str
    error: str = ""


@dataclass(frozen=True)
class ConfirmationResult:
    """`--confirm`: the recommendation trained N times, each scored on the test split."""

    sweep_id: str
    metric: str
    settings: dict[str, Any]
    predicted: float | None
    interval: tuple[float, float] | None
    runs: list[ConfirmationRun]
    inside: int
    verdict: str
    model_name: str | None = None
    version: str | None = None
    champion: bool = False
    gate_reason: str = ""
    run_id: str | None = None  # the run whose model went through the gate
    notes: list[str] = field(default_factory=list)
    # `interval` is for ONE run's test-split score (what the runs are checked against) when
    # `interval_reason` says how it was built; `cv_interval` is the recommendation's own, for
    # the cross-validated response the study ranked on
    cv_interval: tuple[float, float] | None = None
    interval_reason: str = ""
    # the study's FactorSpace: settings are shown with the digits each range warrants
    space: Any = field(default=None, repr=False, compare=False)

    @property
    def mean(self) -> float | None:
        values = [r.value for r in self.runs if r.value is not None]
        return sum(values) / len(values) if values else None

    def __str__(self) -> str:
        """The confirmation as the terminal prints it: short names, values rounded by range."""
        said = Namer.of(list(self.settings), self.space)
        return "\n".join(said.text(line) for line in confirmation_lines(self))


def confirmation_lines(c: ConfirmationResult) -> list[str]:
    """The confirmation as aligned `label: value` lines."""
    at = ", ".join(f"{k}={fmt_value(v)}" for k, v in c.settings.items())
    lines: list[tuple[str, str]] = [("Sweep", c.sweep_id[:12]), ("Setting", at)]
    if c.predicted is not None and c.interval is not None and all(map(math.isfinite, c.interval)):
        of = " for a test-split score" if c.interval_reason else ""
        lines.append(
            (
                "Predicted",
                f"{c.metric}={c.predicted:.4g}, 95% prediction interval{of} "
                f"[{c.interval[0]:.4g}, {c.interval[1]:.4g}]",
            )
        )
    if c.cv_interval is not None and all(map(math.isfinite, c.cv_interval)) and c.interval_reason:
        lines.append(
            (
                "CV interval",
                f"95% prediction interval for the cross-validated response "
                f"[{c.cv_interval[0]:.4g}, {c.cv_interval[1]:.4g}] (what the study ranked on)",
            )
        )
    if c.interval_reason:
        lines.append(("Interval", c.interval_reason))
    for r in c.runs:
        if r.value is None:
            lines.append((f"Run (seed {r.train_seed})", f"failed: {r.error}"))
        else:
            where = "" if r.inside is None else (" inside" if r.inside else " OUTSIDE")
            lines.append((f"Run (seed {r.train_seed})", f"{c.metric}={r.value:.4g}{where}"))
    if c.mean is not None:
        lines.append(("Mean", f"{c.metric}={c.mean:.4g} over {len(c.runs)} runs (test split)"))
    lines.append(("Verdict", c.verdict))
    if c.version:
        lines.append(("Registered model", f"{c.model_name} version {c.version}"))
        lines.append(("Champion", f"{'yes' if c.champion else 'no'} ({c.gate_reason})"))
    else:
        lines.append(("Registered model", f"none ({c.gate_reason})"))
    lines += [("Note", n) for n in c.notes]
    width = max(len(k) for k, _ in lines) + 2
    return [f"{k + ':':<{width}}{v}" for k, v in lines]


__all__ = [
    "MODEL_STAGES",
    "BestSetting",
    "ConfirmationResult",
    "ConfirmationRun",
    "StageSummary",
    "best_run_recommendation",
    "best_setting",
    "confirm_command",
    "confirmation_lines",
    "explicit_design",
    "fmt_value",
    "recommendation_dict",
    "recommendation_lines",
    "response_view",
    "setting_key",
    "short_name",
    "stage_lines",
    "stage_markdown",
    "stage_recommendation",
    "with_seeds",
]
