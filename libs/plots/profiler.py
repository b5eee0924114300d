"""A prediction profiler (JMP's): a slider per factor, the predicted response with its band.

`profiler_model` fits the richest polynomial the runs support (second order,
else main effects with two-factor interactions, else main effects) by least
squares in coded units and keeps what a browser needs to predict anywhere in
the design's region: the terms, the coefficients, their covariance and the
t quantile. `profiler_figure` draws one panel per factor (the prediction
along that factor, the others at the current setting, with a 95% confidence
band) and one slider per factor in natural units, starting at the
recommended setting and limited to the region the runs cover. The report's
loader (`libs.plots.report`) runs `PROFILER_JS` on a figure whose
`layout.meta.profiler` holds the model: moving a slider redraws every panel.
Without JavaScript the figure shows the starting setting.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from libs.doe.names import Namer
from libs.doe.space import CategoricalFactor, ContinuousFactor, FactorSpace, IntegerFactor
from libs.plots._profiler_js import PROFILER_JS
from libs.plots.profiler_desirability import OverallDesirability, add_d_panels
from libs.plots.style import log_ticks

STEPS = 21  # slider positions (and points of each curve) across a factor's region
COLUMNS = 2  # panels a row, so a phone shows them large enough
SLIDER_HEIGHT = 48  # px a slider takes below the panels
PANEL_HEIGHT = 230
LEVEL = 0.95


@dataclass(frozen=True)
class ProfilerModel:
    """A least-squares polynomial in coded units: `terms[i]` is the tuple of factor indices
    whose product is column i (() the intercept, (j, j) a square)."""

    factors: list[str]
    terms: list[tuple[int, ...]]
    beta: np.ndarray
    cov: np.ndarray  # covariance of beta (s^2 (X'X)^-1)
    t: float
    low: np.ndarray  # the region the runs cover, coded, per factor
    high: np.ndarray
    kind: str

    def row(self, x: np.ndarray) -> np.ndarray:
        """The model's columns at coded points `x` (n x k)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return np.column_stack(
            [np.prod(x[:, list(t)], axis=1) if t else np.ones(len(x)) for t in self.terms]
        )

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(prediction, half-width of its 95% confidence band) at coded points."""
        f = self.row(x)
        mean = f @ self.beta
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", f, self.cov, f), 0.0))
        return mean, self.t * se


def _terms(k: int, kind: str, levels: Sequence[int]) -> list[tuple[int, ...]]:
    terms: list[tuple[int, ...]] = [(), *((j,) for j in range(k))]
    if kind in ("second order", "interactions"):
        terms += list(itertools.combinations(range(k), 2))
    if kind == "second order":
        terms += [(j, j) for j in range(k) if levels[j] >= 3]
    return terms


def profiler_model(
    coded: pd.DataFrame,
    y: Sequence[float],
    level: float = LEVEL,
    interactions: Sequence[tuple[str, str]] = (),
) -> ProfilerModel | None:
    """The richest model the runs support with a residual degree of freedom (None: none):
    second order, every two-factor interaction, main effects with the `interactions` the
    analysis found active (a fold-over has no df left for all of them), main effects."""
    x = coded.to_numpy(dtype=float)
    values = np.asarray(y, dtype=float)
    n, k = x.shape
    if n < 3 or k == 0:
        return None
    levels = [len(np.unique(np.round(x[:, j], 6))) for j in range(k)]
    names = list(coded.columns)
    chosen = [
        tuple(sorted((names.index(a), names.index(b))))
        for a, b in interactions
        if a in names and b in names and a != b
    ]
    main = _terms(k, "main effects", levels)
    candidates = [
        ("second order", _terms(k, "second order", levels) if max(levels) >= 3 else None),
        ("interactions", _terms(k, "interactions", levels)),
        ("main effects and active interactions", main + list(dict.fromkeys(chosen)) or None),
        ("main effects", main),
    ]
    for kind, terms in candidates:
        if not terms or (kind.endswith("interactions") and kind != "interactions" and not chosen):
            continue
        model = ProfilerModel(
            names, terms, np.zeros(0), np.zeros((0, 0)), 0.0, x.min(0), x.max(0), kind
        )
        m = model.row(x)
        if np.linalg.matrix_rank(m) < m.shape[1] or n - m.shape[1] < 1:
            continue
        beta, *_ = np.linalg.lstsq(m, values, rcond=None)
        df = n - m.shape[1]
        s2 = float(np.sum((values - m @ beta) ** 2)) / df
        cov = s2 * np.linalg.inv(m.T @ m)
        t = float(stats.t.ppf(0.5 + level / 2, df))
        return ProfilerModel(
            names,
            terms,
            beta,
            cov,
            t,
            np.minimum(x.min(0), -1.0),
            np.maximum(x.max(0), 1.0),
            kind,
        )
    return None


def _grid(model: ProfilerModel, j: int, factor: Any) -> np.ndarray:
    """A factor's slider positions (coded): its levels, its whole numbers, or STEPS."""
    if isinstance(factor, CategoricalFactor):
        k = len(factor.levels)
        return np.array([-1 + 2 * i / (k - 1) for i in range(k)])
    codes = np.linspace(model.low[j], model.high[j], STEPS)
    if isinstance(factor, IntegerFactor):  # whole numbers only, each once
        values = sorted({factor.decode(c, clip=False) for c in codes})
        return np.array([factor.encode(v) for v in values])
    return codes


def _with_start(grid: np.ndarray, code: float, factor: Any) -> np.ndarray:
    """A continuous factor's grid with the starting setting itself on it (the panels and the
    D row then start exactly at the recommendation, not at the grid point nearest it)."""
    if not isinstance(factor, ContinuousFactor):
        return grid
    step = float(grid[-1] - grid[0]) / max(len(grid) - 1, 1)
    kept = [g for g in grid if abs(g - code) > 1e-6 * step]
    return np.array(sorted([*kept, code]))


def _natural(factor: Any, code: float) -> Any:
    if isinstance(factor, IntegerFactor):
        return factor.decode(code, clip=False)
    return factor.decode(code)


def profiler_figure(
    model: ProfilerModel,
    space: FactorSpace,
    start: Mapping[str, Any],
    response: str,
    overall: OverallDesirability | None = None,
) -> go.Figure:
    """The profiler at `start` (natural units; clipped into the region), see the module.

    With `overall` (`profiler_desirability.overall_of`), a row of panels below the
    response's shows the overall desirability D along each factor, from the same setting."""
    said = Namer.of(space)
    factors = [space.factor(n) for n in model.factors]
    k = len(factors)
    x0 = np.array(
        [
            float(
                np.clip(
                    f.encode(start[f.name]) if f.name in start else 0.0, model.low[j], model.high[j]
                )
            )
            for j, f in enumerate(factors)
        ]
    )
    grids = [_with_start(_grid(model, j, f), x0[j], f) for j, f in enumerate(factors)]
    # the slider starts at the grid position nearest the starting setting
    active = [int(np.argmin(np.abs(g - x0[j]))) for j, g in enumerate(grids)]
    x0 = np.array([grids[j][active[j]] for j in range(k)])
    cols = min(COLUMNS, k)
    rows = math.ceil(k / cols)  # of the response's panels; as many again for D
    times = 2 if overall is not None else 1
    fig = make_subplots(
        rows=rows * times,
        cols=cols,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=(0.22 / rows + 0.08) / times,  # the same gaps in px with a D row
    )
    labels: list[list[str]] = []
    axis_values: list[list[Any]] = []
    for j, f in enumerate(factors):
        r, c = j // cols + 1, j % cols + 1
        xs = np.tile(x0, (len(grids[j]), 1))
        xs[:, j] = grids[j]
        mean, half = model.predict(xs)
        nat = [_natural(f, g) for g in grids[j]]
        shown = [said.value(f.name, v) for v in nat]
        labels.append(shown)
        xvals: list[Any] = shown if isinstance(f, CategoricalFactor) else [float(v) for v in nat]
        axis_values.append(xvals)
        band = "rgba(31,119,180,0.18)"
        fig.add_trace(
            go.Scatter(
                x=xvals,
                y=list(mean + half),
                mode="lines",
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
            ),
            r,
            c,
        )
        fig.add_trace(
            go.Scatter(
                x=xvals,
                y=list(mean - half),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=band,
                hoverinfo="skip",
                showlegend=False,
            ),
            r,
            c,
        )
        fig.add_trace(
            go.Scatter(
                x=xvals,
                y=list(mean),
                mode="lines",
                line={"color": "#1f77b4"},
                showlegend=False,
                hovertemplate=f"{said.name(f.name)}=%{{x}}<br>{response}=%{{y:.4g}}<extra></extra>",
            ),
            r,
            c,
        )
        fig.add_trace(
            go.Scatter(
                x=[xvals[active[j]]],
                y=[float(mean[active[j]])],
                mode="markers",
                marker={"color": "#d62728", "size": 9},
                showlegend=False,
                hovertemplate=(
                    f"now: {said.name(f.name)}=%{{x}}<br>{response}=%{{y:.4g}}<extra></extra>"
                ),
            ),
            r,
            c,
        )
        log = isinstance(f, ContinuousFactor) and f.scale == "log"
        for row in (r, r + rows) if overall is not None else (r,):  # its D panel's axis too
            fig.update_xaxes(
                title_text=said.name(f.name), type="log" if log else None, row=row, col=c
            )
            if log:
                vals, texts = log_ticks(min(xvals), max(xvals))
                fig.update_xaxes(tickvals=vals, ticktext=texts, row=row, col=c)
    if overall is not None:
        names = [said.name(f.name) for f in factors]
        add_d_panels(fig, overall, grids, x0, axis_values, names, rows + 1, cols)
    # one response scale for every panel (JMP's), wide enough for any setting in the region
    rng = np.random.default_rng(0)
    sample = rng.uniform(model.low, model.high, size=(400, k))
    if k <= 8:  # every corner of the region, where a polynomial's extremes often are
        corners = np.array(list(itertools.product([0, 1], repeat=k)), dtype=float)
        sample = np.vstack([sample, model.low + corners * (model.high - model.low)])
    mean, half = model.predict(np.vstack([sample, x0]))
    lo, hi = float((mean - half).min()), float((mean + half).max())
    pad = 0.05 * (hi - lo or abs(hi) or 1.0)
    for r in range(1, rows + 1):
        fig.update_yaxes(range=[lo - pad, hi + pad], matches="y", row=r)
        fig.update_yaxes(title_text=response, row=r, col=1)
    if overall is not None:  # D on its own 0-1 scale, shared by its panels
        d_axis = f"y{rows * cols + 1}"
        for r in range(rows + 1, 2 * rows + 1):
            fig.update_yaxes(range=[-0.03, 1.05], matches=d_axis, row=r)
            fig.update_yaxes(title_text="D (desirability)", row=r, col=1)
        rows *= 2
    panels_height = rows * PANEL_HEIGHT
    sliders = []
    for j, f in enumerate(factors):
        sliders.append(
            {
                "name": f"f{j}",
                "active": active[j],
                "currentvalue": {
                    "prefix": f"{said.name(f.name)} = ",
                    "font": {"size": 13, "color": "#1f2933"},
                },
                "pad": {"t": 0, "b": 0},
                "len": 1.0,
                "x": 0.0,
                "y": -(0.12 * panels_height + 40 + j * SLIDER_HEIGHT) / panels_height,
                "yanchor": "top",
                "steps": [
                    {"label": labels[j][i], "method": "skip", "args": [], "value": str(i)}
                    for i in range(len(grids[j]))
                ],
                "ticklen": 0,
                "minorticklen": 0,
                # the step labels would crowd each other: the current value says it
                "font": {"size": 8, "color": "rgba(0,0,0,0)"},
            }
        )
    height = panels_height + 80 + k * SLIDER_HEIGHT
    fig.update_layout(
        height=height,
        sliders=sliders,
        margin={"t": 30, "b": 40 + k * SLIDER_HEIGHT, "l": 60, "r": 20},
        meta={
            "profiler": {
                "terms": [list(t) for t in model.terms],
                "beta": [float(b) for b in model.beta],
                "cov": [[float(v) for v in row] for row in model.cov],
                "t": model.t,
                "grids": [[float(g) for g in grid] for grid in grids],
                "active": active,
                "traces": 4,
                **({"desirability": overall.meta(4 * k)} if overall is not None else {}),
            }
        },
    )
    return fig


__all__ = ["PROFILER_JS", "ProfilerModel", "profiler_figure", "profiler_model"]
