"""Regression figures: residuals and predicted against actual."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from libs.plots._inputs import numeric_pair
from libs.plots.style import styled


def residuals_figure(y_true: Any, y_pred: Any) -> go.Figure:
    """Residual (actual - predicted) against predicted: structure here means bias."""
    truth, pred = numeric_pair(y_true, y_pred)
    figure = go.Figure(
        go.Scatter(
            x=pred,
            y=truth - pred,
            mode="markers",
            name="residual",
            marker={"size": 6, "opacity": 0.7},
        )
    )
    figure.add_hline(y=0, line_dash="dash", line_color="grey")
    figure.update_xaxes(title="predicted")
    figure.update_yaxes(title="actual - predicted")
    return styled(figure, "Residuals")


def predicted_vs_actual_figure(y_true: Any, y_pred: Any) -> go.Figure:
    """Predicted against actual, with the y = x line a perfect model sits on."""
    truth, pred = numeric_pair(y_true, y_pred)
    low = float(min(truth.min(), pred.min()))
    high = float(max(truth.max(), pred.max()))
    figure = go.Figure(
        [
            go.Scatter(
                x=truth,
                y=pred,
                mode="markers",
                name="prediction",
                marker={"size": 6, "opacity": 0.7},
            ),
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                name="y = x",
                line={"dash": "dash", "color": "grey"},
                hoverinfo="skip",
            ),
        ]
    )
    figure.update_xaxes(title="actual")
    figure.update_yaxes(title="predicted")
    return styled(figure, "Predicted vs actual")


__all__ = ["predicted_vs_actual_figure", "residuals_figure"]
