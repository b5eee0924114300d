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


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Ticks for a log axis from `low` to `high`: 1, 2 and 5 times the decades in between,
    labelled as numbers (`0.02`, `0.05`, `0.1`), not plotly's bare mantissas (`2`, `5`)."""
    import math

    vals: list[float] = []
    for decade in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**decade
            if low * 0.999 <= v <= high * 1.001:
                vals.append(float(f"{v:.6g}"))
    if len(vals) < 2:
        vals = [low, high]
    return vals, [f"{v:.3g}" for v in vals]


__all__ = ["FIGURE_HEIGHT", "diagonal", "log_ticks", "styled"]
