"""Input-drift figures: one bar per feature against the threshold, and bucket histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from libs.plots._inputs import PlotInputError
from libs.plots.style import styled

FLAGGED_COLOR = "#c0392b"
STABLE_COLOR = "#2e86c1"


def drift_statistic_figure(
    features: Sequence[str],
    values: Sequence[float],
    threshold: float,
    flagged: Sequence[bool] | None = None,
    statistic: str = "PSI",
) -> go.Figure:
    """A bar per feature, red where flagged, with the threshold as a dashed line."""
    names = [str(f) for f in features]
    numbers = np.asarray(values, dtype=float)
    if len(names) != numbers.size:
        raise PlotInputError(f"values: has {numbers.size} entries but features has {len(names)}")
    marks = list(flagged) if flagged is not None else list(numbers > threshold)
    if len(marks) != len(names):
        raise PlotInputError(f"flagged: has {len(marks)} entries but features has {len(names)}")
    figure = go.Figure(
        go.Bar(
            x=names,
            y=np.nan_to_num(numbers, nan=0.0),
            marker_color=[FLAGGED_COLOR if m else STABLE_COLOR for m in marks],
            text=[f"{v:.3f}" for v in numbers],
            textposition="outside",
            name=statistic,
        )
    )
    figure.add_hline(
        y=threshold,
        line_dash="dash",
        line_color="grey",
        annotation_text=f"threshold {threshold:g}",
        annotation_position="top left",
    )
    figure.update_xaxes(title="feature")
    figure.update_yaxes(title=statistic)
    return styled(figure, f"{statistic} per feature (red: drifted)")


def drift_histogram_figure(
    feature: str, labels: Sequence[str], reference: Sequence[float], current: Sequence[float]
) -> go.Figure:
    """Share of rows per bucket, training data beside the scored input."""
    if not (len(labels) == len(reference) == len(current)):
        raise PlotInputError(
            f"{feature}: labels, reference and current differ in length "
            f"({len(labels)}, {len(reference)}, {len(current)})"
        )
    figure = go.Figure(
        [
            go.Bar(x=list(labels), y=list(reference), name="training", marker_color="#7f8c8d"),
            go.Bar(x=list(labels), y=list(current), name="input", marker_color=FLAGGED_COLOR),
        ]
    )
    figure.update_layout(barmode="group")
    figure.update_xaxes(title=str(feature))
    figure.update_yaxes(title="share of rows", tickformat=".0%")
    return styled(figure, f"{feature}: training vs input")


def drift_figures(
    table: pd.DataFrame,
    histograms: Mapping[str, tuple[Sequence[str], Sequence[float], Sequence[float]]],
    threshold: float,
    max_histograms: int = 4,
    statistic: str = "psi",
) -> list[tuple[str, Any]]:
    """The statistic bars, then histograms of the most drifted flagged features."""
    for column in ("feature", statistic, "flagged"):
        if column not in table.columns:
            raise PlotInputError(f"drift table: no column '{column}'")
    figures: list[tuple[str, Any]] = [
        (
            "Drift per feature",
            drift_statistic_figure(
                table["feature"].astype(str).tolist(),
                table[statistic].astype(float).tolist(),
                threshold,
                table["flagged"].astype(bool).tolist(),
                statistic.upper(),
            ),
        )
    ]
    worst = table[table["flagged"].astype(bool)].sort_values(statistic, ascending=False)
    for feature in worst["feature"].astype(str).head(max_histograms):
        if feature in histograms:
            labels, ref, cur = histograms[feature]
            figures.append(
                (f"{feature}: training vs input", drift_histogram_figure(feature, labels, ref, cur))
            )
    return figures


__all__ = ["drift_figures", "drift_histogram_figure", "drift_statistic_figure"]
