"""The design-evaluation section of a sweep report: what `--evaluate` prints, as HTML.

The figures are `libs.doe.evaluate`'s (JMP's Evaluate Design: run count, the
model the design supports, power per term for a coefficient of 1 and 2 noise
standard deviations, VIF, D-/A-/G-efficiency, the fraction of design space,
the |r| colour map of model terms against each other and against the
two-factor interactions and quadratics left out); nothing is recomputed here.
A report shows them for the design as planned, so a reader can tell a null
result of a weak design from a real absence of effects.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from libs.doe.evaluate import DesignEvaluation, comparison_table, evaluate_design
from libs.doe.names import Namer
from libs.doe.runs import Design
from libs.doe.space import FactorSpace
from libs.errors import InputError
from libs.plots.report import KeyValues, Table

TITLE = "Design evaluation (before any training)"
_SKIP = ("I-efficiency % (vs best here)",)  # relative to the best of several: 100 alone


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN: no error df, no test
            return "-"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def evaluate_planned(
    design: Design, space: FactorSpace, effect_sizes: Sequence[float] = (1.0, 2.0)
) -> DesignEvaluation:
    """The design's evaluation for the largest model it supports, in its analysed factors
    (an augmentation in some factors is judged in those)."""
    names = list(design.active) or list(space.names)
    sub = FactorSpace(factors=[space.factor(n) for n in names])
    return evaluate_design(design.coded[names], sub, None, effect_sizes)


def term_table(e: DesignEvaluation) -> pd.DataFrame:
    """Power per term (one column per effect size) and the largest VIF of its columns."""
    table = e.power.copy()
    table.columns = [f"power, coefficient {d:g} SD" for d in table.columns]
    table["VIF"] = [
        max(
            (float(v) for label, v in e.vif.items() if label == t or label.startswith(f"{t}[")),
            default=float("nan"),
        )
        for t in table.index
    ]
    table.index.name = "term"
    return table.round(3).reset_index()


def correlation_figure(e: DesignEvaluation) -> go.Figure:
    """|r| of each model column (rows) with every model and left-out column (JMP's map)."""
    corr = e.correlations
    figure = go.Figure(
        go.Heatmap(
            z=corr.to_numpy(),
            x=list(corr.columns),
            y=list(corr.index),
            zmin=0,
            zmax=1,
            colorscale="RdBu_r",
            colorbar={"title": "|r|"},
            hovertemplate="%{y} ~ %{x}: |r| = %{z:.2f}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", type="category", automargin=True)
    figure.update_xaxes(type="category", tickangle=-45, automargin=True)
    figure.update_layout(height=max(320, 140 + 22 * len(corr.index)))
    return figure


def evaluation_sections(
    design: Design, space: FactorSpace, effect_sizes: Sequence[float] = (1.0, 2.0)
) -> tuple[list[tuple[str, KeyValues | Table]], list[tuple[str, go.Figure]]]:
    """The report's header sections (headline figures, power and VIF per term) and its
    correlation map; a design that cannot be judged (e.g. a single path) gets one line."""
    said = Namer.of(space)
    notes = [("design note", said.text(n)) for n in design.notes]
    try:
        e = evaluate_planned(design, space, effect_sizes)
    except InputError as exc:
        return [(TITLE, KeyValues([("not evaluated", str(exc)), *notes]))], []
    rows = [("design", f"{design.kind}, {e.runs} runs")]
    if not e.estimable:  # power, VIF and variances are undefined: say why, once
        rows += [("model", e.model), ("parameters", str(e.parameters))]
        return [(TITLE, KeyValues([*rows, *(("note", n) for n in e.notes), *notes]))], []
    headline = comparison_table({"design": e})["design"]
    rows += [(str(k), _fmt(v)) for k, v in headline.items() if k not in _SKIP]
    rows += [(f"prediction variance, {q:.0%} of the region", _fmt(v)) for q, v in e.fds.items()]
    rows += [("note", n) for n in e.notes] + notes
    caption = (
        f"For the {e.model} model the runs support, noise SD 1, alpha {e.alpha:g}; the same "
        "figures as python -m flows.sweep --evaluate."
    )
    sections: list[tuple[str, KeyValues | Table]] = [
        (TITLE, KeyValues(rows, caption)),
        (
            "Power and VIF per term",
            Table(
                term_table(e),
                "Power to detect a coefficient of 1 or 2 noise SDs; VIF 1 is orthogonal.",
            ),
        ),
    ]
    worst = e.worst_correlations(1)
    title = "Correlation map of model terms" + (
        f" (largest: {worst[0][0]} ~ {worst[0][1]} {worst[0][2]:.2f})" if worst else ""
    )
    return sections, [(title, correlation_figure(e))]


__all__ = ["TITLE", "correlation_figure", "evaluate_planned", "evaluation_sections", "term_table"]
