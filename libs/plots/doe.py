"""Design-of-experiments figures: main effects, interactions, Pareto, half-normal, surfaces.

Inputs are the real factor values of the runs that finished (one column per
factor) and one response per run, or values already computed by `libs.doe`.
Factor levels are drawn as categories in level order: a log-scale factor, an
integer and a categorical factor all read the same way, one tick per level.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from libs.plots._inputs import PlotInputError, as_1d
from libs.plots.style import FIGURE_HEIGHT, styled

MAX_LEVELS = 7  # more distinct values than this (a Latin hypercube) are binned
_PER_ROW = 4
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_POSITIVE, _NEGATIVE = "#1f77b4", "#d62728"


def _runs(points: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(points, pd.DataFrame) or points.shape[1] == 0:
        raise PlotInputError("points: expected a DataFrame with one column per factor")
    values = as_1d("y", y)
    if len(values) != len(points):
        raise PlotInputError(f"y: has {len(values)} values but points has {len(points)} rows")
    try:
        values = values.astype(float)
    except (TypeError, ValueError) as exc:
        raise PlotInputError(f"y: responses must be numbers ({exc})") from exc
    if not np.all(np.isfinite(values)):
        raise PlotInputError("y: responses must be finite numbers")
    return points.reset_index(drop=True), values


def _label(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return str(value)
    return f"{float(value):.4g}"


def level_labels(column: pd.Series, max_levels: int = MAX_LEVELS) -> pd.Series:
    """Each run's level as a label; numeric columns with many values go into quantile bins."""
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if numeric and column.nunique() > max_levels:
        bins = pd.qcut(column.astype(float), q=min(max_levels, 5), duplicates="drop")
        return bins.map(lambda b: f"{_label(b.left)}-{_label(b.right)}").astype(str)
    return column.map(_label)


def _ordered_levels(column: pd.Series, labels: pd.Series) -> list[str]:
    """Labels in level order: by value for numbers, by first appearance otherwise."""
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    frame = pd.DataFrame({"value": column, "label": labels})
    if numeric:
        frame = frame.sort_values("value", kind="stable")
    return list(dict.fromkeys(frame["label"]))


def _wrapped(a: str, b: str, width: int = 18) -> str:
    """An interaction's panel title, on two lines when long (`a x` / `b`): a phone's
    half-width panel holds about 18 characters."""
    return f"{a} x {b}" if len(a) + len(b) + 3 <= width else f"{a} x<br>{b}"


def _grid(
    n: int, titles: Sequence[str], shared_y: bool, per_row: int = _PER_ROW
) -> tuple[go.Figure, int]:
    cols = min(n, per_row)
    rows = math.ceil(n / cols)
    figure = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles),
        shared_yaxes=shared_y,
        horizontal_spacing=0.12 if per_row <= 2 else 0.06,
        # titles on two lines need a wider gap under the row above (its axis title)
        vertical_spacing=(0.6 if any("<br>" in t for t in titles) else 0.3) / rows
        if rows > 1
        else 0.1,
    )
    return figure, cols


def main_effects_figure(
    points: pd.DataFrame, y: Any, response: str = "response", max_levels: int = MAX_LEVELS
) -> go.Figure:
    """Mean response at each level of each factor, with the grand mean dashed."""
    frame, values = _runs(points, y)
    names = [str(c) for c in frame.columns]
    # Two a row: four names side by side overlap on a phone (issue 33).
    figure, cols = _grid(len(names), names, shared_y=True, per_row=2)
    grand = float(values.mean())
    for i, name in enumerate(frame.columns):
        labels = level_labels(frame[name], max_levels)
        order = _ordered_levels(frame[name], labels)
        means = pd.Series(values).groupby(labels.to_numpy()).mean().reindex(order)
        row, col = divmod(i, cols)
        figure.add_trace(
            go.Scatter(
                x=order,
                y=means.to_numpy(),
                mode="lines+markers",
                name=str(name),
                showlegend=False,
                hovertemplate=f"{name}=%{{x}}<br>mean {response}=%{{y:.4g}}<extra></extra>",
            ),
            row=row + 1,
            col=col + 1,
        )
        figure.add_hline(
            y=grand, line={"dash": "dash", "color": "grey", "width": 1}, row=row + 1, col=col + 1
        )
        figure.update_xaxes(type="category", row=row + 1, col=col + 1)
    figure.update_yaxes(title_text=f"mean {response}", col=1)
    figure.update_yaxes(matches="y")  # one scale in every row: effects compare by height
    rows = math.ceil(len(names) / cols)
    return styled(figure, f"Main effects on {response}", height=max(FIGURE_HEIGHT, 320 * rows))


def interaction_figure(
    points: pd.DataFrame,
    y: Any,
    pairs: Sequence[tuple[str, str]] | None = None,
    response: str = "response",
    max_levels: int = MAX_LEVELS,
) -> go.Figure:
    """For each pair (a, b): mean response over the levels of a, one line per level of b.

    Parallel lines mean no interaction. `pairs` defaults to every pair of
    columns (at most 8 are drawn).
    """
    frame, values = _runs(points, y)
    if frame.shape[1] < 2:
        raise PlotInputError("points: an interaction plot needs at least two factors")
    chosen = list(pairs) if pairs is not None else list(itertools.combinations(frame.columns, 2))
    if not chosen:
        raise PlotInputError("pairs: no pair of factors to plot")
    for a, b in chosen:
        for name in (a, b):
            if name not in frame.columns:
                raise PlotInputError(f"pairs: {name!r} is not a column of points")
    chosen = chosen[:8]
    # Two per row: a pair's title ("a x b") is wider than a main-effect title.
    figure, cols = _grid(len(chosen), [_wrapped(a, b) for a, b in chosen], True, per_row=2)
    colors = _PALETTE
    shown: dict[str, str] = {}  # legend entry -> its colour: one entry per `b=level`
    for i, (a, b) in enumerate(chosen):
        a_labels = level_labels(frame[a], max_levels)
        b_labels = level_labels(frame[b], max_levels)
        order = _ordered_levels(frame[a], a_labels)
        row, col = divmod(i, cols)
        for level in _ordered_levels(frame[b], b_labels):
            mask = (b_labels == level).to_numpy()
            means = pd.Series(values[mask]).groupby(a_labels.to_numpy()[mask]).mean().reindex(order)
            name = f"{b}={level}"
            first = name not in shown
            color = shown.setdefault(name, colors[len(shown) % len(colors)])
            figure.add_trace(
                go.Scatter(
                    x=order,
                    y=means.to_numpy(),
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=first,
                    line={"color": color},
                    marker={"color": color},
                    connectgaps=True,
                    hovertemplate=(
                        f"{a}=%{{x}}<br>{b}={level}<br>mean {response}=%{{y:.4g}}<extra></extra>"
                    ),
                ),
                row=row + 1,
                col=col + 1,
            )
        figure.update_xaxes(type="category", title_text=a, row=row + 1, col=col + 1)
    figure.update_yaxes(title_text=f"mean {response}", col=1)
    rows = math.ceil(len(chosen) / cols)
    # a phone stacks the legend's entries one a line: room for them, not out of the panels
    height = max(FIGURE_HEIGHT, 340 * rows) + 60 + 22 * len(shown)
    styled(figure, f"Interactions on {response}", height=height)
    # the legend below the panels: at its right it took half a phone's width (issue 33)
    figure.update_layout(
        legend={"orientation": "h", "x": 0, "y": -0.12 - 0.1 / rows, "yanchor": "top"},
        margin={"b": 110},
    )
    return figure


def pareto_figure(
    standardized: pd.Series, threshold: float | None = None, label: str = "|t|"
) -> go.Figure:
    """Standardized effects as bars, largest on top; beyond `threshold` is significant.

    Bar colour gives the sign (blue raises the response, red lowers it).
    """
    if not isinstance(standardized, pd.Series) or standardized.empty:
        raise PlotInputError("standardized: expected a non-empty Series indexed by term")
    values = standardized.astype(float)
    if not np.all(np.isfinite(values.to_numpy())):
        raise PlotInputError("standardized: effects must be finite numbers")
    if threshold is not None and not (math.isfinite(threshold) and threshold > 0):
        raise PlotInputError(f"threshold: must be a positive number, got {threshold}")
    ordered = values.reindex(values.abs().sort_values().index)
    figure = go.Figure(
        go.Bar(
            x=ordered.abs().to_numpy(),
            y=[str(i) for i in ordered.index],
            orientation="h",
            marker_color=[_POSITIVE if v >= 0 else _NEGATIVE for v in ordered],
            customdata=ordered.to_numpy(),
            hovertemplate="%{y}<br>standardized effect %{customdata:.3g}<extra></extra>",
            showlegend=False,
        )
    )
    if threshold is not None:
        figure.add_vline(
            x=threshold,
            line={"dash": "dash", "color": "grey"},
            annotation_text=f"{threshold:.3g}",
            annotation_position="top",
        )
    # the method on a line of its own: one long title ran off a phone's screen (issue 33)
    figure.update_xaxes(title_text=label.replace(" (", "<br>(", 1), automargin=True)
    height = max(FIGURE_HEIGHT, 28 * len(ordered) + 120)
    return styled(figure, "Pareto of standardized effects", height=height)


def half_normal_figure(
    effects: pd.Series, margin: float | None = None, label: str = "ME (Lenth)"
) -> go.Figure:
    """|effects| against half-normal quantiles; inactive effects fall on a line through 0.

    One point per estimated effect (one per alias chain). `margin` (Lenth's
    ME) is drawn as a vertical line: effects beyond it stand off the line.
    """
    if not isinstance(effects, pd.Series) or effects.empty:
        raise PlotInputError("effects: expected a non-empty Series indexed by term")
    values = effects.astype(float).abs().sort_values()
    if not np.all(np.isfinite(values.to_numpy())):
        raise PlotInputError("effects: must be finite numbers")
    m = len(values)
    quantiles = stats.norm.ppf(0.5 + 0.5 * (np.arange(1, m + 1) - 0.5) / m)
    figure = go.Figure(
        go.Scatter(
            x=values.to_numpy(),
            y=quantiles,
            mode="markers+text",
            text=[str(i) for i in values.index],
            # small effects sit near 0: their names go right, the large ones' left, so no
            # name runs off the plot (issue 33: labels were clipped at the left edge)
            textposition=[
                "middle right" if v < 0.5 * values.max() else "middle left"
                for v in values.to_numpy()
            ],
            cliponaxis=False,
            hovertemplate="%{text}<br>|effect| %{x:.4g}<extra></extra>",
            showlegend=False,
        )
    )
    if margin is not None and math.isfinite(margin) and margin > 0:
        figure.add_vline(
            x=margin,
            line={"dash": "dash", "color": "grey"},
            annotation_text=f"{label} {margin:.3g}",
            annotation_position="top",
        )
    top = float(values.max()) or 1.0
    figure.update_xaxes(title_text="|effect|", range=[-0.03 * top, 1.06 * top])
    figure.update_yaxes(title_text="half-normal quantile")
    return styled(figure, "Half-normal plot of effects", height=max(FIGURE_HEIGHT, 22 * m + 160))


def contour_figure(
    x_values: Any,
    y_values: Any,
    z: Any,
    x_name: str,
    y_name: str,
    *,
    response: str = "response",
    observed: pd.DataFrame | None = None,
    optimum: Mapping[str, float] | None = None,
    log_x: bool = False,
    log_y: bool = False,
    optimum_label: str = "fitted optimum",
) -> go.Figure:
    """A fitted response over two factors (z[i, j] at y_values[i], x_values[j]).

    `observed` (columns x_name, y_name) marks the design points; `optimum` the
    fitted optimum (`optimum_label` names it: a saddle's best point is no
    optimum). Log-scale factors get log axes.
    """
    xs, ys = as_1d("x_values", x_values).astype(float), as_1d("y_values", y_values).astype(float)
    grid = np.asarray(z, dtype=float)
    if grid.shape != (len(ys), len(xs)):
        raise PlotInputError(
            f"z: shape {grid.shape} does not match (len(y_values), len(x_values)) = "
            f"({len(ys)}, {len(xs)})"
        )
    figure = go.Figure(
        go.Contour(
            x=xs,
            y=ys,
            z=grid,
            colorscale="Viridis",
            colorbar={"title": {"text": response}},
            contours={"showlabels": True},
            hovertemplate=f"{x_name}=%{{x:.4g}}<br>{y_name}=%{{y:.4g}}<br>"
            f"{response}=%{{z:.4g}}<extra></extra>",
        )
    )
    if observed is not None:
        for name in (x_name, y_name):
            if name not in observed.columns:
                raise PlotInputError(f"observed: missing column {name!r}")
        figure.add_trace(
            go.Scatter(
                x=observed[x_name].astype(float),
                y=observed[y_name].astype(float),
                mode="markers",
                name="design points",
                marker={"color": "white", "line": {"color": "black", "width": 1}, "size": 8},
            )
        )
    if optimum is not None:
        figure.add_trace(
            go.Scatter(
                x=[float(optimum[x_name])],
                y=[float(optimum[y_name])],
                mode="markers",
                name=optimum_label,
                marker={"symbol": "star", "color": "red", "size": 16},
            )
        )
    figure.update_xaxes(title_text=x_name, type="log" if log_x else "linear")
    figure.update_yaxes(title_text=y_name, type="log" if log_y else "linear")
    styled(figure, f"Response surface of {response}: {x_name} x {y_name}", height=500)
    # The legend goes under the plot: on the right it would cover the colorbar's title.
    figure.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2, "yanchor": "top"},
        margin={"b": 110},
    )
    return figure


def confirmation_figure(
    predicted: float,
    interval: tuple[float, float],
    observed: Sequence[float],
    metric: str,
    level: float = 0.95,
) -> go.Figure:
    """A recommendation's prediction and interval, and the confirmation runs' scores.

    Runs inside the interval are blue, outside red: the picture of
    `libs.doe.confirmation_verdict`.
    """
    low, high = (float(v) for v in interval)
    if not (math.isfinite(predicted) and math.isfinite(low) and math.isfinite(high)):
        raise PlotInputError("predicted/interval: must be finite numbers")
    if not low <= predicted <= high:
        raise PlotInputError(f"interval: [{low:.4g}, {high:.4g}] must contain {predicted:.4g}")
    scores = as_1d("observed", list(observed)).astype(float)
    inside = (scores >= low) & (scores <= high)
    runs = [f"run {i + 1}" for i in range(len(scores))]
    figure = go.Figure()
    figure.add_hrect(y0=low, y1=high, fillcolor="#1f77b4", opacity=0.12, line_width=0)
    figure.add_hline(
        y=predicted,
        line={"dash": "dash", "color": "grey"},
        annotation_text=f"predicted {predicted:.4g} ({100 * level:.0f}% interval "
        f"{low:.4g} to {high:.4g})",
        annotation_position="top left",
    )
    figure.add_trace(
        go.Scatter(
            x=runs,
            y=scores,
            mode="markers",
            marker={"size": 11, "color": [_POSITIVE if i else _NEGATIVE for i in inside]},
            hovertemplate="%{x}: %{y:.4g}<extra></extra>",
            showlegend=False,
        )
    )
    figure.update_yaxes(title_text=metric)
    return styled(figure, f"Confirmation: {int(inside.sum())} of {len(scores)} runs inside")


def table_figure(frame: pd.DataFrame, title: str) -> go.Figure:
    """A table (results, ANOVA) as a figure, so it sits in the report like the plots."""
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0:
        raise PlotInputError("frame: expected a DataFrame with at least one column")

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.4g}"
        return "" if value is None else str(value)

    columns = [str(c) for c in frame.columns]
    cells = [[cell(v) for v in frame[c]] for c in frame.columns]
    figure = go.Figure(
        go.Table(
            header={"values": columns, "align": "left", "fill_color": "#eef0f2"},
            cells={"values": cells, "align": "left"},
        )
    )
    return styled(figure, title, height=min(900, max(260, 32 * len(frame) + 140)))


__all__ = [
    "contour_figure",
    "half_normal_figure",
    "interaction_figure",
    "level_labels",
    "main_effects_figure",
    "pareto_figure",
    "table_figure",
]
