"""The figures and tables of a DOE sweep's report, from its design, points and analysis.

Sections: main effects; interactions (only when an interaction was
estimated: never for a Plackett-Burman or a resolution III fraction, whose
interaction plots would show main effects under another name); Pareto of
effects; half-normal plot; alias structure (and partial aliasing); ANOVA with
pure error and lack of fit; canonical analysis or the path of steepest
ascent; response-surface contours.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from libs.doe.desirability import Desirability
from libs.doe.learned import significant
from libs.doe.names import Namer
from libs.doe.result import DoeAnalysis
from libs.doe.runs import Design
from libs.doe.space import ContinuousFactor, FactorSpace
from libs.doe.summary import LEARNED
from libs.doe.sweep import PointResult, SweepAnalysis
from libs.plots.doe import (
    contour_figure,
    half_normal_figure,
    interaction_figure,
    main_effects_figure,
    pareto_figure,
)
from libs.plots.profiler import profiler_figure, profiler_model
from libs.plots.profiler_desirability import overall_of
from libs.plots.report import KeyValues, Table
from libs.plots.study_views import (
    history_figure,
    parallel_figure,
    ranked_effects_figure,
    slice_figure,
)

MAX_PARTIAL_ROWS = 60


def named(frame: pd.DataFrame, said: Namer) -> pd.DataFrame:
    """A table in short factor names: its columns, its text cells and its term index
    (`model.params.a:model.params.b` -> `a x b`), numbers without float noise; a factor's
    own column (a setting) rounded to the digits its range warrants."""
    frame = frame.copy()
    for col in frame.columns:
        if col in said.factors and pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = [said.rounded(col, v) for v in frame[col]]
    out = frame.rename(columns=lambda c: said.text(str(c)) if isinstance(c, str) else c)
    out.index = [said.text(i) if isinstance(i, str) else i for i in out.index]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = [said.text(v) if isinstance(v, str) else v for v in out[col]]
    return out


def factors_table(space: FactorSpace) -> pd.DataFrame:
    """The study's factors: short name, config key, range and scale (the config section)."""
    said = Namer.of(space)
    rows = []
    for f in space.factors:
        if isinstance(f, ContinuousFactor) or hasattr(f, "low"):
            low, high = f.low, f.high  # type: ignore[union-attr]
            where = f"{said.value(f.name, low)} to {said.value(f.name, high)}"
        else:
            where = ", ".join(str(v) for v in f.levels)  # type: ignore[union-attr]
        scale = f.scale if isinstance(f, ContinuousFactor) else f.type
        rows.append(
            {"name": said.name(f.name), "config key": f.name, "range": where, "scale": scale}
        )
    return pd.DataFrame(rows, columns=["name", "config key", "range", "scale"])


def _surface_pairs(result: DoeAnalysis, n: int = 3) -> list[tuple[str, str]]:
    """Pairs of factors with the largest linear effects, most important first."""
    linear = result.effect_series().reindex(result.factors).abs().sort_values(ascending=False)
    return list(itertools.combinations(list(linear.index), 2))[:n]


def surface_grid(
    result: DoeAnalysis, space: FactorSpace, a: str, b: str, steps: int = 41
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted response over factors a (x) and b (y), the others at the best fitted point."""
    assert result.canonical is not None
    codes = np.linspace(-1.0, 1.0, steps)
    lo = {n: float(v) for n, v in zip(result.factors, result.canonical.best, strict=True)}
    xa, xb = np.meshgrid(codes, codes)
    grid = pd.DataFrame({name: np.full(xa.size, lo[name]) for name in result.factors})
    grid[a], grid[b] = xa.ravel(), xb.ravel()
    z = result.predict(grid).reshape(xa.shape)
    fa, fb = space.factor(a), space.factor(b)
    xs = np.array([fa.decode(c) for c in codes], dtype=float)
    ys = np.array([fb.decode(c) for c in codes], dtype=float)
    return xs, ys, z


def _is_log(space: FactorSpace, name: str) -> bool:
    factor = space.factor(name)
    return isinstance(factor, ContinuousFactor) and factor.scale == "log"


def _interaction_pairs(result: DoeAnalysis) -> list[tuple[str, str]]:
    two = result.effects[result.effects["name"].str.count(":") == 1]
    two = two.reindex(two["effect"].abs().sort_values(ascending=False).index)
    return [tuple(str(n).split(":")) for n in two["name"][:4]]  # type: ignore[misc]


def _effect_figures(result: DoeAnalysis) -> list[tuple[str, Any]]:
    figures: list[tuple[str, Any]] = []
    said = result.said
    effects = result.effect_series().rename(index=lambda n: said.term(str(n)))
    if effects.empty:
        return figures
    std = result.standardized()
    if std is not None:
        values, cut, method = std
        values = values.rename(index=lambda n: said.term(str(n)))
        figures.append(
            (
                "Pareto of effects",
                pareto_figure(values, cut, f"|standardized effect| (by {method})"),
            )
        )
    else:
        figures.append(
            ("Pareto of effects", pareto_figure(effects, None, "|effect| (no significance test)"))
        )
    if result.kind.startswith("two-level") and len(effects) >= 2:
        margin = result.lenth.me if result.lenth is not None else None
        figures.append(("Half-normal plot", half_normal_figure(effects, margin)))
    return figures


def _tables(result: DoeAnalysis) -> list[tuple[str, Any]]:
    said = result.said
    return [
        (name, Table(named(t.frame, said), said.text(t.caption)) if isinstance(t, Table) else t)
        for name, t in _raw_tables(result)
    ]


def _raw_tables(result: DoeAnalysis) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if not result.aliases.empty:
        title = "Alias chains (one effect estimated per chain)"
        if result.defining_relation:
            title += f"; {result.defining_relation}, resolution {result.resolution}"
        letters = ", ".join(f"{v} = {k}" for k, v in result.letters.items())
        table = result.aliases.drop(columns=["estimated"])
        out.append(("Alias structure", Table(table, f"{title}. {letters}")))
    partial = result.partial_aliasing
    if partial is not None and not partial.empty:
        shown = partial.head(MAX_PARTIAL_ROWS)
        title = f"Partial aliasing: {len(partial)} correlated pairs"
        out.append(("Partial aliasing", Table(shown, title)))
    if result.anova is not None:
        table = result.anova.table.reset_index(names="source")
        out.append(("ANOVA", Table(table, "ANOVA with pure error and lack of fit")))
    canon = result.canonical_table()
    if canon is not None and result.canonical is not None:
        title = f"Canonical analysis: {result.canonical.nature}"
        out.append(("Canonical analysis", Table(canon, title)))
    if result.steepest is not None:
        way = "ascent" if result.maximize else "descent"
        out.append((f"Path of steepest {way}", Table(result.steepest, f"Steepest {way}")))
    return out


def sweep_figures(
    design: Design,
    space: FactorSpace,
    results: Sequence[PointResult],
    analysis: SweepAnalysis,
    metric: str,
) -> list[tuple[str, Any]]:
    """Every figure and table of the sweep's report, by section title."""
    done = sorted((r for r in results if r.ok), key=lambda r: r.index)
    figures: list[tuple[str, Any]] = []
    result = analysis.result
    said = Namer.of(space)
    if len(done) >= 2:
        points = design.frame.iloc[[r.index for r in done]].reset_index(drop=True)
        points = points.rename(columns=said.name)  # short names as subplot titles
        y = [r.objective for r in done]
        figures.append(("Main effects", main_effects_figure(points, y, metric)))
        if result is not None and result.interactions_estimable and points.shape[1] >= 2:
            pairs = [(said.name(a), said.name(b)) for a, b in _interaction_pairs(result)]
            figures.append(("Interactions", interaction_figure(points, y, pairs, metric)))
    if result is None:
        return figures
    figures += _effect_figures(result)
    if result.canonical is not None and len(result.factors) >= 2:
        c = result.canonical
        observed = design.frame.iloc[[r.index for r in done]]
        best = result.natural.get("best") or {}
        label = "fitted optimum" if c.is_optimum else "best point inside the region"
        for a, b in _surface_pairs(result):
            xs, ys, z = surface_grid(result, space, a, b)
            figure = contour_figure(
                xs,
                ys,
                z,
                said.name(a),
                said.name(b),
                response=metric,
                observed=observed.rename(columns=said.name),
                optimum={said.name(k): v for k, v in best.items()} or None,
                log_x=_is_log(space, a),
                log_y=_is_log(space, b),
                optimum_label=label,
            )
            figures.append((f"Response surface: {said.name(a)} x {said.name(b)}", figure))
    return figures + _tables(result)


def study_figures(
    design: Design,
    space: FactorSpace,
    results: Sequence[PointResult],
    analysis: SweepAnalysis,
    metric: str,
    start: Mapping[str, Any] | None = None,
    responses: Sequence[str] = (),
    goals: Mapping[str, Desirability] | None = None,
) -> list[tuple[str, Any]]:
    """The views a reader plays with first: the prediction profiler (starting at `start`,
    the recommended setting; with the overall desirability D as a row of its own when
    `goals` weigh several responses; one more profiler for each of the other `responses`),
    the runs in order with the best so far, effect sizes ranked, parallel coordinates and
    one slice a factor (`libs.plots.profiler`, `study_views`)."""
    done = sorted((r for r in results if r.ok and r.objective is not None), key=lambda r: r.index)
    if len(done) < 2:
        return []
    result = analysis.result
    maximize = result.maximize if result is not None else True
    y = [float(r.objective) for r in done]  # type: ignore[arg-type]
    points = design.frame.iloc[[r.index for r in done]].reset_index(drop=True)
    out: list[tuple[str, Any]] = []
    coded = design.coded.iloc[[r.index for r in done]].reset_index(drop=True)
    varying = [c for c in coded.columns if coded[c].nunique() > 1]
    active: list[tuple[str, str]] = []
    if result is not None:
        pairs = [str(n).split(":") for n in significant(result)["name"]]
        active = [(p[0], p[1]) for p in pairs if len(p) == 2]
    model = profiler_model(coded[varying], y, interactions=active) if varying else None
    if model is not None:
        best = done[int(np.argmax(y) if maximize else np.argmin(y))]
        at = {**best.point, **(start or {})}
        own = (metric, metric.removeprefix("cv."))
        others: dict[str, Any] = {}  # each other response's model, over the same factors
        for name in dict.fromkeys([*responses, *(goals or {})]):
            runs = [r for r in done if name in r.metrics and np.isfinite(r.metrics[name])]
            if name in own or len(runs) < 3:
                continue
            rows = design.coded.iloc[[r.index for r in runs]].reset_index(drop=True)
            others[name] = profiler_model(rows[varying], [float(r.metrics[name]) for r in runs])
        models = {n: model if n in own else others.get(n) for n in goals or {}}
        overall = overall_of(models, goals or {}, varying)
        figure = profiler_figure(model, space, at, metric, overall)
        with_d = ", and the overall desirability D" if overall is not None else ""
        out.append((f"Prediction profiler ({model.kind} model, 95% band{with_d})", figure))
        for name in responses:  # a cost response's own profiler, from the same setting
            other = others.get(name)
            if other is not None:
                figure = profiler_figure(other, space, at, name)
                out.append((f"Prediction profiler: {name} ({other.kind} model)", figure))
    out.append(("Runs in order, best so far", history_figure(y, metric, maximize)))
    if result is not None and not result.effect_series().empty:
        effects = result.effect_series().to_dict()
        figure = ranked_effects_figure(effects, metric, result.said)
        out.append(("Effect sizes, ranked (green raises, red lowers the response)", figure))
    if len(space.names) >= 2:
        out.append(("Parallel coordinates", parallel_figure(points, y, space, metric)))
    out.append(("Slices: the response against each factor", slice_figure(points, y, space, metric)))
    return out


def report_meta(
    design: Design,
    analysis: SweepAnalysis,
    best: PointResult | None,
    metric: str,
    extra: Mapping[str, str],
    space: FactorSpace | None = None,
) -> dict[str, str]:
    """The report's header lines: design, points analysed, best point, surface, notes
    (in short factor names, values with the digits their range warrants; the notes that
    say what was learned are left to the report's first section)."""
    said = Namer.of(list(design.frame.columns), space)
    meta = dict(extra)
    meta["design"] = f"{design.kind}, {len(design)} points ({design.requested_runs} requested)"
    info = design.metadata()
    if info["generators"]:
        meta["generators"] = ", ".join(info["generators"])
    if info["defining_relation"] and info["defining_relation"] != "I":
        meta["defining relation"] = f"{info['defining_relation']} (resolution {info['resolution']})"
    if design.center_points or design.replicates > 1:
        meta["replication"] = (
            f"{design.center_points} centre runs, {design.replicates} replicate(s) of the design"
        )
    meta["run order"] = f"{design.run_order} (seed {design.seed})"
    meta["analysed"] = f"{analysis.used} completed, {analysis.failed} failed"
    if best is not None:
        point = said.point(best.point)
        meta["best point"] = f"#{best.index}: {metric}={best.objective:.4g} ({point})"
    fitted = analysis.best_fitted()
    if fitted is not None:
        at, value, what = fitted
        where = said.point(at)
        meta["fitted " + ("optimum" if what.startswith("optimum") else "best point")] = (
            f"{metric}={value:.4g} at {where}: {what}"
        )
    notes = [n for n in analysis.notes if not n.startswith(LEARNED)]
    for i, note in enumerate(notes, 1):
        meta[f"note {i}"] = said.text(note)
    return meta


def learned_section(analysis: SweepAnalysis, next_step: str = "") -> KeyValues | None:
    """The report's first section: what the stage learned, then the one next step."""
    rows = [
        (f"{i}.", n.removeprefix(LEARNED))
        for i, n in enumerate((n for n in analysis.notes if n.startswith(LEARNED)), 1)
    ]
    if next_step:
        rows.append(("next step", next_step))
    return (
        KeyValues(rows, "Statistical details (aliases, ANOVA, Lenth) are below.") if rows else None
    )


__all__ = [
    "factors_table",
    "learned_section",
    "named",
    "report_meta",
    "study_figures",
    "surface_grid",
    "sweep_figures",
]
