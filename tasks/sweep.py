"""The tasks of a DOE sweep: parent run, point records, analysis, report, artifacts.

Analysis is picked by the design's kind:

- full/fractional factorial, Plackett-Burman: main effects (and two-factor
  interactions, except Plackett-Burman whose interactions are partially
  aliased with the main effects) and a type II ANOVA with p-values;
- central composite, Box-Behnken: main and interaction effects, and a
  quadratic response surface with its R^2 and predicted optimum;
- Latin hypercube: effects by linear regression on the coded factors
  (2 x slope: the change from low to high), and a response surface when
  every factor is numeric and there are more runs than quadratic terms.

Standardized effects (for the Pareto chart) are t values from the ANOVA where
it exists, else Lenth's pseudo standard error over all effects (the usual
method for unreplicated two-level designs). Any step the completed points
cannot support is skipped with a note; the analysis never fails the sweep.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from scipy import stats

from libs.doe import (
    CategoricalFactor,
    ContinuousFactor,
    Design,
    FactorSpace,
    ResponseSurface,
    anova_table,
    interaction_effects,
    main_effects,
    response_surface,
)
from libs.errors import InputError
from libs.plots import (
    contour_figure,
    interaction_figure,
    main_effects_figure,
    pareto_figure,
    render_report,
    table_figure,
)
from libs.settings import PlatformSettings
from tasks import tracking
from tasks._common import IO_RETRIES, IO_RETRY_DELAYS, retry_unless_input_error

FACTORIAL = frozenset({"full_factorial", "fractional_factorial", "plackett_burman"})
SURFACE = frozenset({"central_composite", "box_behnken"})
TOP_EFFECTS = 5


# --- point records ---------------------------------------------------------------------


@dataclass(frozen=True)
class PointResult:
    """The outcome of one design point: completed, reused from an earlier sweep, or failed."""

    index: int
    point: dict[str, Any]
    status: str  # "completed" | "reused" | "failed"
    metrics: dict[str, float] = field(default_factory=dict)
    objective: float | None = None
    run_id: str | None = None
    model_uri: str = ""
    task_type: str = ""
    data_digest: str = ""
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed" and self.objective is not None


def _objective(metrics: Mapping[str, float], metric: str) -> float | None:
    value = metrics.get(metric)
    return float(value) if value is not None and math.isfinite(value) else None


def _point_tags(sweep_id: str, index: int, model_uri: str = "") -> dict[str, str]:
    tags = {"sweep.id": sweep_id, "sweep.point": str(index)}
    if model_uri:
        tags["sweep.model_uri"] = model_uri
    return tags


def reusable_point(
    settings: PlatformSettings,
    *,
    experiment: str,
    sweep_id: str,
    index: int,
    point: dict[str, Any],
    config_digest: str,
    metric: str,
) -> PointResult | None:
    """A FINISHED run of the same sweep and point config, recorded as reused; else None."""
    found = tracking.find_sweep_point(
        settings, experiment=experiment, sweep_id=sweep_id, config_digest=config_digest
    )
    if found is None or not found.tags.get("sweep.model_uri"):
        return None
    return PointResult(
        index=index,
        point=point,
        status="reused",
        metrics=found.metrics,
        objective=_objective(found.metrics, metric),
        run_id=found.run_id,
        model_uri=found.tags["sweep.model_uri"],
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
) -> PointResult:
    """Find the point's child run under the parent, tag it with the sweep, and record it.

    Tagging after training (rather than inside the training flow) keeps the
    training flow unaware of sweeps; a completed point is reusable only once
    it carries `sweep.id` and its model URI.
    """
    child = tracking.find_child_run(
        settings, parent_run_id=parent_run_id, config_digest=config_digest
    )
    if child is None:
        return PointResult(
            index, point, "failed", error=error or "no training run found", seconds=seconds
        )
    failed = bool(error) or child.status != "FINISHED"
    # A deployment run returns no summary here: address its model through the run.
    model_uri = model_uri or f"runs:/{child.run_id}/model"
    objective = _objective(child.metrics, metric)
    if not failed and objective is None:
        error, failed = f"objective metric {metric!r} was not computed by this run", True
    handle = tracking.RunHandle(
        child.run_id, child.experiment_id, settings.resolved_tracking_uri, ""
    )
    tracking.set_tags(handle, _point_tags(sweep_id, index, "" if failed else model_uri))
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


def best_point(results: Sequence[PointResult], maximize: bool) -> PointResult | None:
    """The point with the best objective; ties go to the earlier point."""
    done = [r for r in results if r.ok]
    if not done:
        return None
    sign = 1.0 if maximize else -1.0
    return max(done, key=lambda r: (sign * float(r.objective or 0.0), -r.index))


def results_table(design: Design, results: Sequence[PointResult], metric: str) -> pd.DataFrame:
    """One row per point: factors, status, objective, every metric, child run id, error."""
    by_index = {r.index: r for r in results}
    metric_names = sorted({m for r in results for m in r.metrics})
    rows = []
    for index, point in enumerate(design.points):
        r = by_index.get(index)
        row: dict[str, Any] = {"point": index, **point}
        row["status"] = r.status if r else "missing"
        row[f"objective.{metric}"] = r.objective if r else None
        for name in metric_names:
            row[f"metric.{name}"] = r.metrics.get(name) if r else None
        row["run_id"] = (r.run_id or "") if r else ""
        row["seconds"] = round(r.seconds, 2) if r else None
        row["error"] = r.error if r else ""
        rows.append(row)
    return pd.DataFrame(rows)


def design_tables(design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The design matrix, coded and real, each with a leading point column."""
    coded = design.coded.copy()
    coded.insert(0, "point", range(len(coded)))
    real = design.frame
    real.insert(0, "point", range(len(real)))
    return coded, real


# --- analysis --------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepAnalysis:
    """What the completed points say about the factors."""

    kind: str
    used: int
    failed: int
    effects: pd.Series | None = None
    interactions: pd.Series | None = None
    effects_method: str = ""
    anova: pd.DataFrame | None = None
    standardized: pd.Series | None = None
    threshold: float | None = None
    standardized_method: str = ""
    surface: ResponseSurface | None = None
    notes: tuple[str, ...] = ()

    def top_effects(self, n: int = TOP_EFFECTS) -> list[tuple[str, float]]:
        """The largest effects (main and interaction) by size."""
        parts = [s for s in (self.effects, self.interactions) if s is not None]
        if not parts:
            return []
        both = pd.concat(parts)
        order = both.abs().sort_values(ascending=False).index[:n]
        return [(str(k), float(both[k])) for k in order]

    def metrics(self) -> dict[str, float]:
        """The analysis as MLflow metrics (finite values only)."""
        out: dict[str, float] = {}
        for name, value in (self.effects if self.effects is not None else pd.Series()).items():
            out[f"effect.{name}"] = float(value)
        for name, value in (
            self.interactions if self.interactions is not None else pd.Series()
        ).items():
            out[f"interaction.{name}"] = float(value)
        if self.anova is not None and "PR(>F)" in self.anova:
            for term, p in self.anova["PR(>F)"].items():
                if term != "Residual" and pd.notna(p):
                    out[f"anova.p.{term}"] = float(p)
        if self.surface is not None:
            s = self.surface
            out["surface.r2"] = s.r_squared
            out["surface.adj_r2"] = s.adj_r_squared
            out["surface.predicted_optimum"] = s.predicted_optimum
            for name, value in s.optimum.items():
                out[f"optimum.{name}"] = float(value)
        return {k: v for k, v in out.items() if math.isfinite(v)}


def regression_effects(coded: pd.DataFrame, y: np.ndarray) -> pd.Series:
    """Effects from a linear fit on coded factors: 2 x slope, the change from -1 to +1.

    For designs without runs at exactly -1 and +1 (a Latin hypercube).
    """
    x = np.column_stack([np.ones(len(coded)), coded.to_numpy(dtype=float)])
    if len(y) <= x.shape[1]:
        raise InputError(
            f"{len(y)} completed points cannot fit {coded.shape[1]} linear effects; "
            f"need more than {x.shape[1]}"
        )
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return pd.Series(2 * beta[1:], index=list(coded.columns), name="effect", dtype=float)


def lenth_standardized(effects: pd.Series) -> tuple[pd.Series, float]:
    """Effects over Lenth's pseudo standard error, and the margin of error (t units)."""
    values = effects.to_numpy(dtype=float)
    if len(values) < 3:
        raise InputError(f"Lenth's method needs at least 3 effects, got {len(values)}")
    s0 = 1.5 * np.median(np.abs(values))
    trimmed = np.abs(values)[np.abs(values) < 2.5 * s0]
    pse = 1.5 * float(np.median(trimmed)) if trimmed.size else 0.0
    if pse <= 0:
        raise InputError("every effect is zero, so none can be standardized")
    margin = float(stats.t.ppf(0.975, len(values) / 3))
    return effects / pse, margin


def anova_standardized(anova: pd.DataFrame, signs: pd.Series) -> tuple[pd.Series, float]:
    """Signed t values of the one-degree-of-freedom terms, and the 5% two-sided cut-off."""
    terms = [t for t in anova.index if t != "Residual" and anova.loc[t, "df"] == 1]
    t_values = {
        t: math.copysign(math.sqrt(max(float(anova.loc[t, "F"]), 0.0)), signs.get(t, 1.0))
        for t in terms
        if pd.notna(anova.loc[t, "F"])
    }
    if not t_values:
        raise InputError("the ANOVA table has no single-degree-of-freedom term")
    df_resid = float(anova.loc["Residual", "df"])
    return pd.Series(t_values, dtype=float), float(stats.t.ppf(0.975, df_resid))


def _attempt(notes: list[str], what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except InputError as exc:
        notes.append(f"{what}: {exc}")
        return None


def analyse(
    design: Design, space: FactorSpace, responses: Mapping[int, float], maximize: bool
) -> SweepAnalysis:
    """Analyse the completed points (index -> objective) of `design` by its kind."""
    used = sorted(i for i, v in responses.items() if v is not None and math.isfinite(v))
    failed = len(design) - len(used)
    notes: list[str] = []
    if failed:
        notes.append(f"{failed} of {len(design)} points failed; analysed the {len(used)} others")
    coded = design.coded.iloc[used].reset_index(drop=True)
    y = np.array([responses[i] for i in used], dtype=float)
    constant = [c for c in coded.columns if coded[c].nunique() < 2]
    if constant:
        notes.append(f"not analysed (one level among completed points): {', '.join(constant)}")
        coded = coded.drop(columns=constant)
    if len(used) < 2 or coded.shape[1] == 0:
        notes.append("too few completed points or varying factors to analyse")
        return SweepAnalysis(design.kind, len(used), failed, notes=tuple(notes))

    effects = interactions = anova = surface = None
    method = "contrast"
    if design.kind == "latin_hypercube":
        method = "regression"
        effects = _attempt(notes, "effects", regression_effects, coded, y)
    else:
        effects = _attempt(notes, "main effects", main_effects, coded, y)
        if design.kind == "plackett_burman":
            notes.append("interactions: not estimated (partially aliased in Plackett-Burman)")
        elif coded.shape[1] >= 2:
            interactions = _attempt(notes, "interactions", interaction_effects, coded, y)
    if design.kind in FACTORIAL:
        anova = _attempt(
            notes, "ANOVA", anova_table, coded, y, interactions=design.kind != "plackett_burman"
        )
        if anova is not None and anova.attrs.get("note"):
            notes.append(f"ANOVA: {anova.attrs['note']}")
    numeric = all(not isinstance(space.factor(c), CategoricalFactor) for c in coded.columns)
    if design.kind in SURFACE or (design.kind == "latin_hypercube" and numeric):
        surface = _attempt(notes, "response surface", response_surface, coded, y, space, maximize)

    standardized = threshold = None
    std_method = ""
    signs = pd.concat([s for s in (effects, interactions) if s is not None] or [pd.Series()])
    if anova is not None:
        found = _attempt(notes, "standardized effects", anova_standardized, anova, np.sign(signs))
        if found is not None:
            (standardized, threshold), std_method = found, "t (ANOVA)"
    if standardized is None and len(signs):
        found = _attempt(notes, "standardized effects", lenth_standardized, signs)
        if found is not None:
            (standardized, threshold), std_method = found, "Lenth PSE"
    return SweepAnalysis(
        kind=design.kind,
        used=len(used),
        failed=failed,
        effects=effects,
        interactions=interactions,
        effects_method=method,
        anova=anova,
        standardized=standardized,
        threshold=threshold,
        standardized_method=std_method,
        surface=surface,
        notes=tuple(notes),
    )


# --- report ----------------------------------------------------------------------------


def _surface_pairs(surface: ResponseSurface, n: int = 3) -> list[tuple[str, str]]:
    """Pairs of the factors with the largest linear coefficients, most important first."""
    linear = surface.coefficients[surface.factors].abs().sort_values(ascending=False)
    ranked = list(linear.index)
    return list(itertools.combinations(ranked, 2))[:n]


def surface_grid(
    surface: ResponseSurface, space: FactorSpace, a: str, b: str, steps: int = 41
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted response over factors a (x) and b (y), others held at the optimum."""
    codes = np.linspace(-1.0, 1.0, steps)
    xa, xb = np.meshgrid(codes, codes)
    grid = pd.DataFrame({name: surface.optimum_coded[name] for name in surface.factors}, index=[0])
    grid = grid.loc[grid.index.repeat(xa.size)].reset_index(drop=True)
    grid[a], grid[b] = xa.ravel(), xb.ravel()
    z = surface.predict(grid).reshape(xa.shape)
    fa, fb = space.factor(a), space.factor(b)
    xs = np.array([fa.decode(c) for c in codes], dtype=float)
    ys = np.array([fb.decode(c) for c in codes], dtype=float)
    return xs, ys, z


def _is_log(space: FactorSpace, name: str) -> bool:
    factor = space.factor(name)
    return isinstance(factor, ContinuousFactor) and factor.scale == "log"


def _pair(term: str) -> tuple[str, str]:
    a, _, b = term.partition(":")
    return a, b


def sweep_figures(
    design: Design,
    space: FactorSpace,
    results: Sequence[PointResult],
    analysis: SweepAnalysis,
    metric: str,
) -> list[tuple[str, Any]]:
    """Main effects, interactions, Pareto of effects, response-surface contours, tables."""
    done = sorted((r for r in results if r.ok), key=lambda r: r.index)
    figures: list[tuple[str, Any]] = []
    if len(done) >= 2:
        points = design.frame.iloc[[r.index for r in done]].reset_index(drop=True)
        y = [r.objective for r in done]
        figures.append(("Main effects", main_effects_figure(points, y, metric)))
        if points.shape[1] >= 2:
            pairs = None
            if analysis.interactions is not None and len(analysis.interactions):
                top = analysis.interactions.abs().sort_values(ascending=False).index[:4]
                pairs = [_pair(str(t)) for t in top]
            figures.append(("Interactions", interaction_figure(points, y, pairs, metric)))
    if analysis.standardized is not None:
        label = f"|standardized effect| ({analysis.standardized_method})"
        figures.append(
            ("Pareto of effects", pareto_figure(analysis.standardized, analysis.threshold, label))
        )
    if analysis.surface is not None and len(analysis.surface.factors) >= 2:
        s = analysis.surface
        observed = design.frame.iloc[[r.index for r in done]]
        for a, b in _surface_pairs(s):
            xs, ys, z = surface_grid(s, space, a, b)
            figure = contour_figure(
                xs,
                ys,
                z,
                a,
                b,
                response=metric,
                observed=observed,
                optimum=s.optimum,
                log_x=_is_log(space, a),
                log_y=_is_log(space, b),
            )
            figures.append((f"Response surface: {a} x {b}", figure))
    if analysis.anova is not None:
        table = analysis.anova.reset_index(names="term")
        figures.append(("ANOVA", table_figure(table, "ANOVA (type II)")))
    return figures


def _meta(
    design: Design,
    analysis: SweepAnalysis,
    best: PointResult | None,
    metric: str,
    extra: Mapping[str, str],
) -> dict[str, str]:
    meta = dict(extra)
    meta["design"] = f"{design.kind}, {len(design)} points ({design.requested_runs} requested)"
    meta["analysed"] = f"{analysis.used} completed, {analysis.failed} failed"
    if best is not None:
        point = ", ".join(f"{k}={v}" for k, v in best.point.items())
        meta["best point"] = f"#{best.index}: {metric}={best.objective:.4g} ({point})"
    if analysis.surface is not None:
        s = analysis.surface
        optimum = ", ".join(f"{k}={v:.4g}" for k, v in s.optimum.items())
        meta["fitted optimum"] = f"{metric}={s.predicted_optimum:.4g} at {optimum}"
    for i, note in enumerate(analysis.notes, 1):
        meta[f"note {i}"] = note
    return meta


# --- summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSummary:
    """What a person needs after a sweep: where it is, what it found, what got registered."""

    parent_run_id: str
    run_url: str
    experiment: str
    sweep_id: str
    design: str
    points: int
    completed: int
    reused: int
    failed: int
    metric: str
    direction: str
    top_effects: list[tuple[str, float]]
    optimum: dict[str, Any] | None
    predicted_optimum: float | None
    surface_r2: float | None
    best_index: int | None
    best_point: dict[str, Any] | None
    best_value: float | None
    best_run_id: str | None
    model_name: str | None
    version: str | None
    champion: bool
    gate_reason: str
    report_uri: str
    ui_command: str
    notes: list[str]


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def summary_lines(s: SweepSummary) -> list[str]:
    """The summary as aligned `label: value` lines (the CLI and the Prefect artifact)."""
    ran = s.completed - s.reused
    lines = [
        ("Parent MLflow run", f"{s.parent_run_id} (experiment '{s.experiment}')"),
        ("Run page", s.run_url),
        (
            "Design",
            f"{s.design}, {s.points} points: {ran} trained, {s.reused} reused, {s.failed} failed",
        ),
        ("Objective", f"{s.direction} {s.metric}"),
        (
            "Top effects",
            ", ".join(f"{k} {v:+.4g}" for k, v in s.top_effects) or "none estimated",
        ),
    ]
    if s.optimum is not None and s.predicted_optimum is not None:
        at = ", ".join(f"{k}={_fmt(v)}" for k, v in s.optimum.items())
        r2 = f" (surface R2 {s.surface_r2:.3f})" if s.surface_r2 is not None else ""
        lines.append(("Fitted optimum", f"{s.metric}={s.predicted_optimum:.4g} at {at}{r2}"))
    else:
        lines.append(("Fitted optimum", "none (no response surface for this design)"))
    if s.best_point is not None and s.best_value is not None:
        at = ", ".join(f"{k}={_fmt(v)}" for k, v in s.best_point.items())
        lines.append(("Best point", f"#{s.best_index}: {s.metric}={s.best_value:.4g} ({at})"))
        lines.append(("Best run", str(s.best_run_id)))
    else:
        lines.append(("Best point", "none (no point completed)"))
    if s.version:
        lines.append(("Registered model", f"{s.model_name} version {s.version}"))
        lines.append(("Champion", f"{'yes' if s.champion else 'no'} ({s.gate_reason})"))
    else:
        lines.append(("Registered model", f"none ({s.gate_reason})"))
    lines += [("Report", s.report_uri), ("MLflow UI", s.ui_command)]
    lines += [("Note", note) for note in s.notes]
    width = max(len(k) for k, _ in lines) + 2
    return [f"{k + ':':<{width}}{v}" for k, v in lines]


def summary_markdown(s: SweepSummary) -> str:
    rows = "\n".join(
        f"| {line.split(':', 1)[0]} | {line.split(':', 1)[1].strip()} |"
        for line in summary_lines(s)
    )
    return f"# DOE sweep {s.sweep_id[:12]}\n\n| | |\n|---|---|\n{rows}\n"


# --- tasks -----------------------------------------------------------------------------


_IO_DELAYS: list[float] = [float(d) for d in IO_RETRY_DELAYS]


def _io_task(name: str) -> Any:
    """The decorator of an I/O task: retried with growing delays, never cached."""
    return task(
        name=name,
        retries=IO_RETRIES,
        retry_delay_seconds=_IO_DELAYS,
        retry_condition_fn=retry_unless_input_error,
        cache_policy=NO_CACHE,
    )


@_io_task("start-sweep")
def start_sweep(
    settings: PlatformSettings,
    *,
    experiment: str,
    artifact_root: str,
    artifact_env: dict[str, str],
    run_name: str,
    params: dict[str, str],
    tags: dict[str, str],
) -> tracking.RunHandle:
    """The sweep's parent MLflow run, linked to the sweep's flow run."""
    from prefect.runtime import flow_run

    tracking.use_artifact_credentials(artifact_env)
    flow_run_id = str(flow_run.id) if flow_run.id else None
    return tracking.start_sweep_run(
        settings,
        experiment=experiment,
        artifact_root=artifact_root,
        run_name=run_name,
        params=params,
        tags=tags,
        flow_run_id=flow_run_id,
    )


@_io_task("log-design")
def log_design(run: tracking.RunHandle, design: Design, config_json: str) -> None:
    """The design matrix (coded and real) and the sweep config, as artifacts."""
    coded, real = design_tables(design)
    tracking.log_table(run, coded, "sweep/design_coded.csv")
    tracking.log_table(run, real, "sweep/design_real.csv")
    tracking.log_text(run, config_json, "sweep/sweep_config.json")


@_io_task("log-results")
def log_results(run: tracking.RunHandle, table: pd.DataFrame) -> None:
    tracking.log_table(run, table, "sweep/results.csv")


@task(name="analyse-sweep", cache_policy=NO_CACHE)
def analyse_sweep(
    design: Design, space: FactorSpace, results: list[PointResult], maximize: bool
) -> SweepAnalysis:
    """Effects, ANOVA and response surface of the completed points (see module doc)."""
    responses = {r.index: float(r.objective) for r in results if r.ok and r.objective is not None}
    return analyse(design, space, responses, maximize)


@_io_task("log-analysis")
def log_analysis(
    run: tracking.RunHandle, analysis: SweepAnalysis, counts: dict[str, float]
) -> None:
    """Analysis metrics, and the effect and ANOVA tables as CSV artifacts."""
    tracking.log_metrics(run, {**analysis.metrics(), **counts})
    parts = {
        "main": analysis.effects,
        "interaction": analysis.interactions,
        "standardized": analysis.standardized,
    }
    rows = [
        {"kind": kind, "term": str(term), "value": float(value)}
        for kind, series in parts.items()
        if series is not None
        for term, value in series.items()
    ]
    if rows:
        tracking.log_table(run, pd.DataFrame(rows), "sweep/effects.csv")
    if analysis.anova is not None:
        tracking.log_table(run, analysis.anova.reset_index(names="term"), "sweep/anova.csv")
    if analysis.notes:
        tracking.log_text(run, "\n".join(analysis.notes) + "\n", "sweep/notes.txt")


@task(name="build-sweep-report", cache_policy=NO_CACHE)
def build_sweep_report(
    title: str,
    design: Design,
    space: FactorSpace,
    results: list[PointResult],
    analysis: SweepAnalysis,
    metric: str,
    best: PointResult | None,
    meta: dict[str, str],
) -> str:
    """The sweep's report: run details, analysis metrics, figures and tables, one HTML page."""
    figures = sweep_figures(design, space, results, analysis, metric)
    figures.append(("Results", table_figure(results_table(design, results, metric), "Results")))
    return render_report(
        title, analysis.metrics(), figures, _meta(design, analysis, best, metric, meta)
    )


@_io_task("child-run")
def child_run(settings: PlatformSettings, run_id: str) -> tracking.RunHandle:
    """A handle on the best point's training run, to register its model."""
    return tracking.run_handle(settings, run_id)


@_io_task("finish-sweep")
def finish_sweep(run: tracking.RunHandle, tags: dict[str, str]) -> None:
    tracking.set_tags(run, tags)
    tracking.end_run(run, "FINISHED")


@task(name="publish-sweep-summary", retries=IO_RETRIES, retry_delay_seconds=_IO_DELAYS)
def publish_sweep_summary(markdown: str, key: str) -> None:
    """The sweep's outcome as a markdown artifact in the Prefect UI."""
    slug = "".join(c if c.isalnum() else "-" for c in key.lower()).strip("-")[:60]
    create_markdown_artifact(markdown, key=f"{slug}-sweep", description="DOE sweep summary")


__all__ = [
    "FACTORIAL",
    "SURFACE",
    "PointResult",
    "SweepAnalysis",
    "SweepSummary",
    "analyse",
    "analyse_sweep",
    "anova_standardized",
    "best_point",
    "build_sweep_report",
    "child_run",
    "design_tables",
    "finish_sweep",
    "lenth_standardized",
    "log_analysis",
    "log_design",
    "log_results",
    "publish_sweep_summary",
    "record_point",
    "regression_effects",
    "results_table",
    "reusable_point",
    "start_sweep",
    "summary_lines",
    "summary_markdown",
    "surface_grid",
    "sweep_figures",
]
