"""The sweep report per design kind: only the plots the design supports, drawn legibly."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from libs.doe import (
    BoxBehnken,
    CentralComposite,
    ContinuousFactor,
    FactorSpace,
    FractionalFactorial,
    FullFactorial,
    LatinHypercube,
    PlackettBurman,
    generate_design,
)
from libs.doe.sweep import PointResult, analyse_points, results_table
from libs.plots import Table, render_report
from libs.plots.doe_sweep import sweep_figures

SPACE = FactorSpace(
    factors=[
        ContinuousFactor(name="model.params.C", low=0.01, high=10.0, scale="log"),
        ContinuousFactor(name="model.params.gamma", low=0.001, high=1.0, scale="log"),
        ContinuousFactor(name="model.params.tol", low=0.0, high=1.0),
    ]
)


def response(coded: dict[str, float]) -> float:
    """Main effects, one interaction and curvature, so every kind has something to show."""
    a, b, c = (coded[f.name] for f in SPACE.factors)
    return 10 + 3 * a - b + 0.5 * c + 2 * a * b - a * a


def sweep(spec: Any, space: FactorSpace = SPACE) -> tuple[list[tuple[str, Any]], Any, list[Any]]:
    design = generate_design(space, spec)
    rng = np.random.default_rng(0)
    results = [
        PointResult(
            i,
            design.points[i],
            "completed",
            {"accuracy": 0.9},
            response(dict(row)) + rng.normal(0, 0.05),
        )
        for i, row in design.coded.iterrows()
    ]
    analysis = analyse_points(design, space, {r.index: r.objective for r in results}, True)
    figures = sweep_figures(design, space, results, analysis, "accuracy")
    return figures, design, results


KINDS: dict[str, tuple[Callable[[], Any], bool, bool]] = {
    # kind: (design, draws interactions, draws a surface)
    "full_factorial": (FullFactorial, True, False),
    "fractional_factorial_res3": (lambda: FractionalFactorial(generator="a b ab"), False, False),
    "plackett_burman": (PlackettBurman, False, False),
    "central_composite": (CentralComposite, True, True),
    "box_behnken": (BoxBehnken, True, True),
    "latin_hypercube": (lambda: LatinHypercube(samples=20), True, True),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_design_kind_draws_only_what_it_estimates(kind: str) -> None:
    # given
    make, interactions, surface = KINDS[kind]
    # when
    names = [name for name, _ in sweep(make())[0]]
    # then
    assert "Main effects" in names
    assert ("Interactions" in names) is interactions, names
    assert any(n.startswith("Response surface") for n in names) is surface, names


def test_interaction_legend_names_each_level_once_and_titles_have_room() -> None:
    # given: a full factorial, whose three pairs share factors (and so legend entries)
    figures = dict(sweep(FullFactorial())[0])
    figure: go.Figure = figures["Interactions"]
    # when
    shown = [t.name for t in figure.data if t.showlegend is not False]
    # then: one legend entry per `factor=level`, the same colour wherever it recurs
    assert len(shown) == len(set(shown))
    colours: dict[str, set[str]] = {}
    for trace in figure.data:
        colours.setdefault(trace.name, set()).add(trace.line.color)
    assert all(len(c) == 1 for c in colours.values())
    # and: two panels a row, so a long "a x b" title fits over its own panel
    widths = [
        figure.layout[k].domain[1] - figure.layout[k].domain[0]
        for k in figure.layout
        if k.startswith("xaxis")
    ]
    assert min(widths) > 0.4


def test_surface_legend_sits_below_the_plot_clear_of_the_colorbar() -> None:
    # given
    figures = dict(sweep(CentralComposite())[0])
    surface = next(f for n, f in figures.items() if n.startswith("Response surface"))
    # then: the colourbar keeps its title on the right; the legend is horizontal underneath
    contour = next(t for t in surface.data if t.type == "contour")
    assert contour.colorbar.title.text == "accuracy"
    assert surface.layout.legend.orientation == "h" and surface.layout.legend.y < 0


def test_tables_are_html_with_full_names_and_sortable() -> None:
    # given
    figures, design, results = sweep(CentralComposite())
    figures.append(("Results", Table(results_table(design, results, "accuracy"))))
    # when
    page = render_report("sweep", {}, figures)
    # then: the results table's headers are the full column names, in a sortable table
    results_html = page.split("<h2>Results</h2>", 1)[1].split("</section>", 1)[0]
    heads = [
        h.replace("<wbr>", "") for h in re.findall(r'<th scope="col">(.*?)</th>', results_html)
    ]
    assert {"model.params.C", "objective.accuracy", "metric.accuracy", "status"} <= set(heads)
    assert '<table class="data">' in results_html and "data-sort=" in results_html
    assert "<h2>ANOVA</h2>" in page
    # and: no plotly table trace left, so the page carries the small cartesian bundle
    assert len(page) < 1_500_000
