"""The prediction profiler's overall desirability row (`libs.plots.profiler`).

With several responses, a sweep ranks settings by Derringer and Suich's
overall desirability D (`libs.doe.desirability`). The profiler predicts each
response from its own model at the sliders' setting, maps each through its
goal and draws D along every factor in a row of panels of its own, on a 0-1
scale, moving with the sliders as the response panels do. The browser side
(`libs.plots._profiler_js`) repeats the arithmetic from `layout.meta.profiler`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from libs.doe.desirability import Desirability, overall_desirability

TRACES = 2  # a D panel's traces: the curve and the current setting's marker
COLOR = "#2ca02c"


@dataclass(frozen=True)
class OverallDesirability:
    """Each response's profiler model (over the same factors) and its goal."""

    models: Mapping[str, Any]  # response -> libs.plots.profiler.ProfilerModel
    goals: Mapping[str, Desirability]

    def at(self, x: np.ndarray) -> np.ndarray:
        """D at coded points `x` (n x k), from each response's predicted mean."""
        predicted = {name: self.models[name].predict(x)[0] for name in self.goals}
        return overall_desirability(predicted, self.goals)

    def meta(self, first: int) -> dict[str, Any]:
        """What the browser needs: each response's model (mean only) and goal, and where
        the D traces start in the figure's data."""
        return {
            "models": [
                {
                    "terms": [list(t) for t in self.models[n].terms],
                    "beta": [float(b) for b in self.models[n].beta],
                }
                for n in self.goals
            ],
            "goals": [
                {
                    "goal": g.goal,
                    "low": g.low,
                    "high": g.high,
                    "target": g.target,
                    "shape": g.shape,
                    "shape_high": g.shape_high,
                    "weight": g.weight,
                }
                for g in self.goals.values()
            ],
            "first": first,
            "traces": TRACES,
        }


def overall_of(
    models: Mapping[str, Any], goals: Mapping[str, Desirability], factors: Sequence[str]
) -> OverallDesirability | None:
    """The D row's inputs, or None: fewer than two responses, or one without a model over
    these `factors` (D would then rest on a response the profiler cannot predict)."""
    if len(goals) < 2:
        return None
    if any(models.get(n) is None or list(models[n].factors) != list(factors) for n in goals):
        return None
    return OverallDesirability(dict(models), dict(goals))


def add_d_panels(
    fig: go.Figure,
    overall: OverallDesirability,
    grids: Sequence[np.ndarray],
    x0: np.ndarray,
    xvals: Sequence[Sequence[Any]],
    names: Sequence[str],
    first_row: int,
    cols: int,
) -> None:
    """One D panel a factor, from `first_row` on: D along that factor with the others at
    `x0` (the same grids and x values as the response panels) and the current setting."""
    for j, grid in enumerate(grids):
        r, c = first_row + j // cols, j % cols + 1
        xs = np.tile(x0, (len(grid), 1))
        xs[:, j] = grid
        d = overall.at(xs)
        now = int(np.flatnonzero(np.asarray(grid) == x0[j])[0])
        fig.add_trace(
            go.Scatter(
                x=list(xvals[j]),
                y=[float(v) for v in d],
                mode="lines",
                line={"color": COLOR},
                showlegend=False,
                hovertemplate=f"{names[j]}=%{{x}}<br>D=%{{y:.3f}}<extra></extra>",
            ),
            r,
            c,
        )
        fig.add_trace(
            go.Scatter(
                x=[xvals[j][now]],
                y=[float(d[now])],
                mode="markers",
                marker={"color": "#d62728", "size": 9},
                showlegend=False,
                hovertemplate=f"now: {names[j]}=%{{x}}<br>D=%{{y:.3f}}<extra></extra>",
            ),
            r,
            c,
        )


__all__ = ["OverallDesirability", "add_d_panels", "overall_of"]
