"""The trade-off of two responses: every run, the non-dominated ones marked and joined.

A run is on the Pareto front when no other run is at least as good in both
responses and better in one (`libs.doe.desirability.pareto_front`); the
front is what a person chooses from when the responses pull apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from libs.plots._inputs import PlotInputError, as_1d
from libs.plots.style import styled


def pareto_figure(
    x: Sequence[float],
    y: Sequence[float],
    front: Sequence[bool],
    *,
    x_name: str,
    y_name: str,
    labels: Sequence[Any] | None = None,
    chosen: int | None = None,
) -> go.Figure:
    """Scatter of two responses over the runs, the front in its own colour and joined.

    `labels` name the runs in the hover text (point numbers); `chosen` is the
    position of the run with the best overall desirability, marked with a star.
    """
    xs, ys = as_1d("x", x).astype(float), as_1d("y", y).astype(float)
    mask = np.asarray(front, dtype=bool)
    if not len(xs) == len(ys) == len(mask):
        raise PlotInputError(f"x, y and front: lengths differ ({len(xs)}, {len(ys)}, {len(mask)})")
    names = [f"#{v}" for v in labels] if labels is not None else [f"#{i}" for i in range(len(xs))]
    text = np.asarray(names, dtype=object)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=xs[~mask],
            y=ys[~mask],
            mode="markers",
            name="dominated",
            text=text[~mask],
            marker={"color": "#9aa5b1", "size": 8},
        )
    )
    order = np.argsort(xs[mask])
    figure.add_trace(
        go.Scatter(
            x=xs[mask][order],
            y=ys[mask][order],
            mode="lines+markers",
            name="Pareto front (non-dominated)",
            text=text[mask][order],
            marker={"color": "#d62728", "size": 11},
            line={"dash": "dot"},
        )
    )
    if chosen is not None and 0 <= chosen < len(xs):
        figure.add_trace(
            go.Scatter(
                x=[xs[chosen]],
                y=[ys[chosen]],
                mode="markers",
                name="best overall desirability",
                text=[text[chosen]],
                marker={"symbol": "star", "size": 18, "color": "#2ca02c"},
            )
        )
    figure.update_xaxes(title_text=x_name)
    figure.update_yaxes(title_text=y_name)
    return styled(figure, f"Trade-off: {y_name} against {x_name}")


__all__ = ["pareto_figure"]
