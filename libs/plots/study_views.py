"""Study-wide views, as users know them from Optuna's dashboard, in factor names.

- `history_figure`: the response of every run in run order, the best so far marked;
- `ranked_effects_figure`: effect sizes ranked (the DOE answer to "parameter
  importance"), in the response's units, with the sign as colour;
- `parallel_figure`: parallel coordinates of all runs, one line a run, coloured
  by the response (drawn with cartesian lines, so the report keeps its small
  plotly.js bundle);
- `slice_figure`: the response against each factor, one panel a factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from libs.doe.names import Namer
from libs.doe.space import CategoricalFactor, ContinuousFactor, FactorSpace, IntegerFactor
from libs.plots.style import log_ticks

COLUMNS = 2  # panels a row: large enough on a phone
PANEL_HEIGHT = 260
SCALE = "Viridis"


def history_figure(values: Sequence[float], response: str, maximize: bool) -> go.Figure:
    """Every run's response in run order, and the best so far as a step line."""
    y = np.asarray(values, dtype=float)
    runs = np.arange(1, len(y) + 1)
    best = np.maximum.accumulate(y) if maximize else np.minimum.accumulate(y)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=runs,
            y=y,
            mode="markers",
            name="run",
            marker={"color": "#1f77b4", "size": 8},
            hovertemplate=f"run %{{x}}<br>{response}=%{{y:.4g}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=runs,
            y=best,
            mode="lines",
            name="best so far",
            line={"shape": "hv", "color": "#d62728"},
            hovertemplate="best after run %{x}: %{y:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        height=360,
        xaxis_title="run (in the order the study ran them)",
        yaxis_title=response,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"t": 40, "l": 60, "r": 20, "b": 50},
    )
    return fig


def ranked_effects_figure(effects: Mapping[str, float], response: str, said: Namer) -> go.Figure:
    """|effect| ranked, largest on top; the colour says whether raising it helps."""
    items = sorted(
        ((said.term(k), float(v)) for k, v in effects.items() if math.isfinite(float(v))),
        key=lambda kv: abs(kv[1]),
    )
    names = [k for k, _ in items]
    sizes = [abs(v) for _, v in items]
    colors = ["#2ca02c" if v > 0 else "#d62728" for _, v in items]
    fig = go.Figure(
        go.Bar(
            x=sizes,
            y=names,
            orientation="h",
            marker={"color": colors},
            customdata=[v for _, v in items],
            hovertemplate=(
                f"%{{y}}: low to high changes {response} by %{{customdata:+.4g}}<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        height=max(260, 32 * len(names) + 90),
        xaxis_title=f"|effect| on {response}",
        yaxis={"automargin": True},
        margin={"t": 20, "l": 20, "r": 20, "b": 60},
    )
    return fig


def _position(space: FactorSpace, name: str, values: Sequence[Any]) -> np.ndarray:
    """Each run's place on a factor's axis in [0, 1] (coded value over the runs' span)."""
    f = space.factor(name)
    coded = np.array([f.encode(v) for v in values], dtype=float)
    lo, hi = min(coded.min(), -1.0), max(coded.max(), 1.0)
    return (coded - lo) / (hi - lo)


def parallel_figure(
    points: pd.DataFrame, values: Sequence[float], space: FactorSpace, response: str
) -> go.Figure:
    """One line a run across an axis per factor and the response, coloured by the response."""
    said = Namer.of(space)
    y = np.asarray(values, dtype=float)
    factors = [n for n in space.names if n in points]
    span = float(y.max() - y.min()) or 1.0
    shade = (y - y.min()) / span
    axes = [_position(space, n, list(points[n])) for n in factors] + [shade]
    colors = sample_colorscale(SCALE, list(shade))
    fig = go.Figure()
    order = np.argsort(shade)  # the best runs drawn last, on top
    for i in order:
        fig.add_trace(
            go.Scatter(
                x=list(range(len(axes))),
                y=[a[i] for a in axes],
                mode="lines",
                line={"color": colors[i], "width": 2},
                opacity=0.8,
                showlegend=False,
                hovertemplate=f"{response}={y[i]:.4g}<br>"
                + "<br>".join(f"{said.name(n)}={said.value(n, points[n].iloc[i])}" for n in factors)
                + "<extra></extra>",
            )
        )
    labels = [said.name(n) for n in factors] + [response]
    low = [_axis_end(space, said, n, points[n], 0) for n in factors] + [f"{y.min():.3g}"]
    high = [_axis_end(space, said, n, points[n], 1) for n in factors] + [f"{y.max():.3g}"]
    for j in range(len(axes)):
        fig.add_shape(type="line", x0=j, x1=j, y0=0, y1=1, line={"color": "#9aa5b1", "width": 1})
    fig.update_layout(
        height=420,
        xaxis={
            "tickvals": list(range(len(axes))),
            "ticktext": labels,
            "range": [-0.3, len(axes) - 0.7],
            "tickangle": -30,
            "automargin": True,
        },
        yaxis={
            "tickvals": [0, 1],
            "ticktext": ["low", "high"],
            "range": [-0.12, 1.12],
            "showgrid": False,
        },
        margin={"t": 20, "l": 50, "r": 20, "b": 40},
    )
    for j in range(len(axes)):
        fig.add_annotation(x=j, y=-0.1, text=low[j], showarrow=False, font={"size": 10})
        fig.add_annotation(x=j, y=1.1, text=high[j], showarrow=False, font={"size": 10})
    return fig


def _axis_end(space: FactorSpace, said: Namer, name: str, values: pd.Series, end: int) -> str:
    f = space.factor(name)
    if isinstance(f, CategoricalFactor):
        return str(f.levels[-1] if end else f.levels[0])
    coded = [f.encode(v) for v in values]
    code = max(max(coded), 1.0) if end else min(min(coded), -1.0)
    natural = f.decode(code, clip=False) if isinstance(f, IntegerFactor) else f.decode(code)
    return said.value(name, natural)


def slice_figure(
    points: pd.DataFrame, values: Sequence[float], space: FactorSpace, response: str
) -> go.Figure:
    """The response against each factor, one panel a factor, coloured by run order."""
    said = Namer.of(space)
    factors = [n for n in space.names if n in points]
    cols = min(COLUMNS, len(factors))
    rows = math.ceil(len(factors) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=0.3 / rows + 0.06,
    )
    y = list(values)
    order = list(range(1, len(y) + 1))
    for j, name in enumerate(factors):
        r, c = j // cols + 1, j % cols + 1
        f = space.factor(name)
        x = (
            [str(v) for v in points[name]]
            if isinstance(f, CategoricalFactor)
            else list(points[name])
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                showlegend=False,
                marker={
                    "color": order,
                    "colorscale": "Blues",
                    "size": 8,
                    "line": {"width": 0.5, "color": "#52606d"},
                    "showscale": False,
                },
                hovertemplate=f"{said.name(name)}=%{{x}}<br>{response}=%{{y:.4g}}<extra></extra>",
            ),
            r,
            c,
        )
        log = isinstance(f, ContinuousFactor) and f.scale == "log"
        fig.update_xaxes(title_text=said.name(name), type="log" if log else None, row=r, col=c)
        if log:
            vals, texts = log_ticks(min(map(float, x)), max(map(float, x)))
            fig.update_xaxes(tickvals=vals, ticktext=texts, row=r, col=c)
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text=response, row=r, col=1)
    fig.update_layout(height=rows * PANEL_HEIGHT + 40, margin={"t": 20, "l": 60, "r": 20, "b": 50})
    return fig


__all__ = ["history_figure", "parallel_figure", "ranked_effects_figure", "slice_figure"]
