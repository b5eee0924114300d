"""One look for every figure, so reports read the same across runs."""

from __future__ import annotations

import plotly.graph_objects as go

FIGURE_HEIGHT = 440


def styled(figure: go.Figure, title: str, height: int = FIGURE_HEIGHT) -> go.Figure:
    """Title, a plain template and a fixed height (a report div has no height of its own)."""
    figure.update_layout(
        title={"text": title},
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        legend={"orientation": "v"},
    )
    return figure


def diagonal(name: str) -> go.Scatter:
    """The dashed y = x reference line on a unit square."""
    return go.Scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=name,
        line={"dash": "dash", "color": "grey"},
        hoverinfo="skip",
    )


__all__ = ["FIGURE_HEIGHT", "diagonal", "styled"]
