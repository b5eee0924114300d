"""The prediction profiler and the study views (issue 33), as figures: the model the
sliders evaluate, where they start and how far they go, in factor names."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from libs.doe.desirability import Desirability, overall_desirability
from libs.doe.names import Namer
from libs.doe.recommend import recommend
from libs.doe.space import FactorSpace
from libs.plots.profiler import profiler_figure, profiler_model
from libs.plots.profiler_desirability import overall_of
from libs.plots.study_views import (
    history_figure,
    parallel_figure,
    ranked_effects_figure,
    slice_figure,
)

SPACE = FactorSpace(
    factors=[
        {
            "name": "model.params.learning_rate",
            "type": "continuous",
            "low": 0.02,
            "high": 0.2,
            "scale": "log",
        },
        {"name": "model.params.max_depth", "type": "integer", "low": 2, "high": 6},
    ]
)
LR, DEPTH = SPACE.names


def grid3() -> pd.DataFrame:
    runs = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=2)))
    return pd.DataFrame(np.vstack([runs, [[0.0, 0.0]]]), columns=SPACE.names)


def test_model_is_the_least_squares_second_order_fit() -> None:
    # given: a 3^2 grid plus a centre replicate, y quadratic in both factors plus noise
    x = grid3()
    noise = np.array([0.01, -0.02, 0.0, 0.02, -0.01, 0.01, 0.0, -0.01, 0.02, -0.02])
    y = 1 + 0.5 * x[LR] - 0.3 * x[DEPTH] ** 2 + 0.2 * x[LR] * x[DEPTH] + noise
    # when
    model = profiler_model(x, y)
    # then: the richest model with a residual df, the same as numpy's least squares
    assert model is not None and model.kind == "second order"
    mean, half = model.predict(x.to_numpy())
    full = np.column_stack(
        [np.ones(10), x[LR], x[DEPTH], x[LR] * x[DEPTH], x[LR] ** 2, x[DEPTH] ** 2]
    )
    beta = np.linalg.lstsq(full, y, rcond=None)[0]
    assert mean == pytest.approx(full @ beta)
    assert (half > 0).all()


def test_two_level_runs_get_a_first_order_model_and_too_few_runs_none() -> None:
    x = pd.DataFrame([[-1, -1], [1, -1], [-1, 1], [1, 1], [0, 0]], columns=SPACE.names, dtype=float)
    model = profiler_model(x, [1.0, 2.0, 1.5, 2.7, 1.8])
    assert model is not None and model.kind in ("interactions", "main effects")
    assert profiler_model(x.iloc[:2], [1.0, 2.0]) is None


def test_figure_starts_at_the_setting_in_names_within_the_region() -> None:
    # given
    x = grid3()
    y = 1 + 0.5 * x[LR] - 0.3 * x[DEPTH] ** 2
    model = profiler_model(x, y + np.resize([0.01, -0.01, 0.02], 10))
    assert model is not None
    # when: a start beyond the region (max_depth 9) is held at its edge
    figure = profiler_figure(model, SPACE, {LR: 0.063, DEPTH: 9}, "r2")
    # then: one slider per factor, in short names, integer steps for max_depth
    sliders = figure.layout.sliders
    assert [s.currentvalue.prefix for s in sliders] == ["learning_rate = ", "max_depth = "]
    assert [st.label for st in sliders[1].steps] == ["2", "3", "4", "5", "6"]
    assert sliders[1].active == 4  # held at 6, the edge of the region
    assert sliders[0].steps[sliders[0].active].label == "0.063"  # the setting itself
    meta = figure.layout.meta["profiler"]
    assert all(-1 - 1e-9 <= g <= 1 + 1e-9 for grid in meta["grids"] for g in grid)
    assert figure.layout.xaxis.title.text == "learning_rate"


def test_overall_desirability_row_starts_at_the_recommendations_d() -> None:
    """Derringer and Suich (1980) as in Myers, Montgomery and Anderson-Cook, RSM 4th ed.,
    section 6.6: D is the weighted geometric mean of each response's d at its prediction."""
    # given: r2 peaks inside the region, the model grows with max_depth
    x = grid3()
    noise = np.array([0.01, -0.02, 0.0, 0.02, -0.01, 0.01, 0.0, -0.01, 0.02, -0.02])
    r2 = 0.4 + 0.05 * x[LR] - 0.04 * x[LR] ** 2 - 0.03 * x[DEPTH] ** 2 + noise
    size = 5e4 + 3e4 * x[DEPTH] + 1e3 * x[LR] + 500 * noise
    models = {"r2": profiler_model(x, r2), "model_size_bytes": profiler_model(x, size)}
    goals = {
        "r2": Desirability(goal="maximize", low=0.3, high=0.45, weight=2),
        "model_size_bytes": Desirability(goal="minimize", low=2e4, high=8e4),
    }
    overall = overall_of(models, goals, SPACE.names)
    assert overall is not None and models["r2"] is not None
    start = recommend(x, list(r2), SPACE).settings  # the recommended setting
    # when
    figure = profiler_figure(models["r2"], SPACE, start, "r2", overall)
    # then: a D panel a factor after the response's four traces a factor, on a 0-1 scale
    meta = figure.layout.meta["profiler"]
    d_meta = meta["desirability"]
    assert d_meta["first"] == 8 and len(figure.data) == 8 + 2 * 2
    assert [g["goal"] for g in d_meta["goals"]] == ["maximize", "minimize"]
    assert figure.layout.yaxis3.title.text == "D (desirability)"
    assert list(figure.layout.yaxis3.range) == [-0.03, 1.05]
    # and: its marker starts at the recommendation, with D computed there from each
    # response's least-squares fit (numpy's, not the profiler's)
    coded = np.array([[SPACE.factor(n).encode(start[n]) for n in SPACE.names]])

    def fitted(y: pd.Series) -> float:
        a, b = x[LR], x[DEPTH]
        cols = [np.ones(10), a, b, a * b, a**2, b**2]
        beta = np.linalg.lstsq(np.column_stack(cols), y, rcond=None)[0]
        u, v = coded[0]
        return float(np.array([1, u, v, u * v, u**2, v**2]) @ beta)

    expected = overall_desirability(
        {"r2": [fitted(r2)], "model_size_bytes": [fitted(size)]}, goals
    )[0]
    assert 0 < expected < 1
    for j, name in enumerate(SPACE.names):
        curve, marker = figure.data[8 + 2 * j], figure.data[9 + 2 * j]
        assert marker.y[0] == pytest.approx(expected)
        at = meta["grids"][j][meta["active"][j]]
        assert at == pytest.approx(coded[0][j])
        assert curve.y[meta["active"][j]] == pytest.approx(expected)
        assert figure.layout.sliders[j].active == meta["active"][j]
        assert marker.x[0] == pytest.approx(float(start[name]))
    # and: no D row with one response
    assert overall_of(models, {"r2": goals["r2"]}, SPACE.names) is None


def test_study_views_in_names() -> None:
    # given
    points = pd.DataFrame({LR: [0.02, 0.2, 0.02, 0.2], DEPTH: [2, 2, 6, 6]})
    y = [0.40, 0.48, 0.42, 0.47]
    # when
    history = history_figure(y, "r2", maximize=True)
    ranked = ranked_effects_figure({LR: 0.065, f"{LR}:{DEPTH}": -0.015}, "r2", Namer.of(SPACE))
    parallel = parallel_figure(points, y, SPACE, "r2")
    slices = slice_figure(points, y, SPACE, "r2")
    # then
    assert list(history.data[1].y) == [0.40, 0.48, 0.48, 0.48]  # best so far
    assert list(ranked.data[0].y) == ["learning_rate x max_depth", "learning_rate"]
    assert list(parallel.layout.xaxis.ticktext) == ["learning_rate", "max_depth", "r2"]
    assert len(parallel.data) == 4
    assert slices.layout.xaxis.title.text == "learning_rate"
    assert slices.layout.xaxis.type == "log"


def test_a_fold_over_profiles_main_effects_with_the_active_interactions() -> None:
    # given: 16 runs in 5 factors (no df for every two-factor interaction)
    names = ["a", "b", "c", "d", "e"]
    base = np.array(list(itertools.product([-1.0, 1.0], repeat=4)))
    x = pd.DataFrame(np.column_stack([base, np.prod(base, axis=1)]), columns=names)
    noise = np.resize([0.01, -0.02, 0.015, 0.0, -0.01], 16)
    y = 1 + 0.5 * x["a"] + 0.3 * x["a"] * x["b"] + noise
    # when
    model = profiler_model(x, y, interactions=[("a", "b")])
    plain = profiler_model(x, y)
    # then
    assert model is not None and model.kind == "main effects and active interactions"
    assert (0, 1) in model.terms
    assert plain is not None and plain.kind == "main effects"
