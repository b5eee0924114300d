"""Training history: one line per series (loss, val_loss, ...) over epochs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from libs.plots._inputs import PlotInputError
from libs.plots.style import styled


def history_figure(history: Mapping[str, Sequence[float]]) -> go.Figure:
    """Each series against epoch number (1-based, as Keras prints them)."""
    if not history:
        raise PlotInputError("history: no series to plot")
    figure = go.Figure()
    for name, values in history.items():
        points = [float(v) for v in values]
        if not points:
            raise PlotInputError(f"history: series {name!r} is empty")
        figure.add_trace(
            go.Scatter(
                x=list(range(1, len(points) + 1)), y=points, mode="lines+markers", name=str(name)
            )
        )
    figure.update_xaxes(title="epoch")
    figure.update_yaxes(title="value")
    return styled(figure, "Training history")


__all__ = ["history_figure"]
