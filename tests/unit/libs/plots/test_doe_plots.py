"""DOE figures: the numbers they draw and the one-line errors on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from libs.plots import (
    PlotInputError,
    contour_figure,
    half_normal_figure,
    interaction_figure,
    main_effects_figure,
    pareto_figure,
    table_figure,
)
from libs.plots.doe import level_labels

POINTS = pd.DataFrame(
    {
        "model.params.C": [0.01, 10.0, 0.01, 10.0],
        "model.params.kernel": ["rbf", "rbf", "linear", "linear"],
    }
)
Y = [0.80, 0.90, 0.70, 0.95]


def test_main_effects_plot_draws_level_means_in_level_order() -> None:
    # when
    figure = main_effects_figure(POINTS, Y, "accuracy")
    # then: one trace per factor, the mean response at each level
    c, kernel = figure.data
    assert list(c.x) == ["0.01", "10"]
    assert list(c.y) == pytest.approx([0.75, 0.925])
    assert list(kernel.x) == ["rbf", "linear"]
    assert list(kernel.y) == pytest.approx([0.85, 0.825])
    assert figure.layout.title.text == "Main effects on accuracy"


def test_interaction_plot_has_one_line_per_level_of_the_second_factor() -> None:
    figure = interaction_figure(POINTS, Y, [("model.params.C", "model.params.kernel")])
    names = [t.name for t in figure.data]
    assert names == ["model.params.kernel=rbf", "model.params.kernel=linear"]
    assert list(figure.data[1].y) == pytest.approx([0.70, 0.95])


def test_many_numeric_levels_are_binned() -> None:
    labels = level_labels(pd.Series(np.linspace(0, 1, 40)))
    assert 2 <= labels.nunique() <= 5


def test_pareto_sorts_by_size_and_marks_the_threshold() -> None:
    # given
    effects = pd.Series({"a": 1.5, "b": -4.0, "a:b": 0.2})
    # when
    figure = pareto_figure(effects, threshold=2.31)
    # then: largest bar last (drawn on top), colour by sign, a line at the threshold
    bar = figure.data[0]
    assert list(bar.y) == ["a:b", "a", "b"]
    assert list(bar.x) == [0.2, 1.5, 4.0]
    assert bar.marker.color[-1] != bar.marker.color[-2]
    assert figure.layout.shapes[0].x0 == 2.31


def test_contour_shows_surface_points_and_optimum_on_log_axes() -> None:
    xs, ys = np.logspace(-2, 2, 5), np.logspace(-4, -1, 4)
    z = np.arange(20, dtype=float).reshape(4, 5)
    figure = contour_figure(
        xs,
        ys,
        z,
        "C",
        "gamma",
        observed=pd.DataFrame({"C": [0.01, 100.0], "gamma": [1e-4, 0.1]}),
        optimum={"C": 1.0, "gamma": 0.001},
        log_x=True,
        log_y=True,
    )
    assert [t.type for t in figure.data] == ["contour", "scatter", "scatter"]
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"
    assert figure.data[2].x == (1.0,)


def test_table_figure_formats_numbers() -> None:
    figure = table_figure(
        pd.DataFrame({"term": ["a"], "p": [0.000123456], "x": [float("nan")]}), "T"
    )
    assert [list(c) for c in figure.data[0].cells.values] == [["a"], ["0.0001235"], [""]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: main_effects_figure(POINTS, [1.0]), "y: has 1 values but points has 4 rows"),
        (lambda: main_effects_figure(POINTS, [1, 2, np.nan, 3]), "y: responses must be finite"),
        (lambda: interaction_figure(POINTS[["model.params.C"]], Y), "at least two factors"),
        (lambda: interaction_figure(POINTS, Y, [("C", "x")]), "'C' is not a column"),
        (lambda: pareto_figure(pd.Series(dtype=float)), "non-empty Series"),
        (lambda: pareto_figure(pd.Series({"a": 1.0}), threshold=-1), "positive number"),
        (lambda: contour_figure([1, 2], [1, 2], np.zeros((3, 2)), "x", "y"), "does not match"),
        (lambda: table_figure(pd.DataFrame(), "t"), "at least one column"),
    ],
)
def test_bad_inputs_are_one_line_plot_errors(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlotInputError, match=message):
        call()


def test_half_normal_plot_orders_effects_against_half_normal_quantiles() -> None:
    # given: four effects and Lenth's margin of error
    effects = pd.Series({"A": 21.6, "B": -3.1, "AC": -18.1, "AB": 0.1})
    # when
    figure = half_normal_figure(effects, margin=6.75)
    # then: |effects| ascending against Phi^-1(0.5 + 0.5 (i - 0.5) / m)
    points = figure.data[0]
    assert list(points.text) == ["AB", "B", "AC", "A"]
    assert list(points.x) == pytest.approx([0.1, 3.1, 18.1, 21.6])
    assert list(points.y) == pytest.approx([0.1573, 0.4888, 0.8871, 1.5341], abs=1e-4)
    assert figure.layout.shapes[0].x0 == 6.75


def test_half_normal_plot_rejects_empty_or_non_finite_effects() -> None:
    with pytest.raises(PlotInputError, match="effects"):
        half_normal_figure(pd.Series(dtype=float))
    with pytest.raises(PlotInputError, match="finite"):
        half_normal_figure(pd.Series({"A": float("nan")}))


def test_confirmation_figure_marks_runs_inside_and_outside_the_interval() -> None:
    from libs.plots.doe import confirmation_figure

    # when
    figure = confirmation_figure(0.50, (0.45, 0.55), [0.48, 0.52, 0.40], "r2")
    # then
    (runs,) = figure.data
    assert list(runs.y) == pytest.approx([0.48, 0.52, 0.40])
    assert list(runs.marker.color) == ["#1f77b4", "#1f77b4", "#d62728"]
    assert figure.layout.title.text == "Confirmation: 2 of 3 runs inside"
    assert figure.layout.shapes[0].y0 == 0.45 and figure.layout.shapes[0].y1 == 0.55
    with pytest.raises(PlotInputError, match="must contain"):
        confirmation_figure(0.60, (0.45, 0.55), [0.5], "r2")
