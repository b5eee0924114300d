"""The path of steepest ascent as single runs (issue 31).

Montgomery, Design and Analysis of Experiments (9th ed.), section 11.2,
Example 11.1 (Tables 11.1-11.3); Lenth's method on pure noise; constructed
data for hard limits, log factors and categorical factors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from doe_textbook import CODED_11_1, SPACE_11_1, Y_11_1

from libs.doe import (
    CategoricalFactor,
    ContinuousFactor,
    FactorSpace,
    FoldOver,
    FractionalFactorial,
    IntegerFactor,
    generate_design,
    steepest_ascent_path,
)
from libs.errors import InputError


def test_path_reproduces_montgomery_example_11_1() -> None:
    """Montgomery Ex. 11.1: first-order model y = 40.44 + 0.775 x1 + 0.325 x2 (no
    curvature term: 40.44 is the mean of all nine runs, not the centre mean 40.46),
    F = 47.83 (p = 0.0002); base x1 moves 1 coded unit (5 min) a step, x2 0.325/0.775 =
    0.42 coded units (2.1 F, rounded to 2 F); Table 11.3: origin (35, 155), then (40, 157),
    (45, 159), ..., (95, 179) at origin + 12 delta."""
    # when
    path = steepest_ascent_path(CODED_11_1, Y_11_1, SPACE_11_1, steps=12, step_digits=1)
    # then: the first-order model
    assert path.intercept == pytest.approx(40.44, abs=0.005)
    assert path.intercept != pytest.approx(40.46, abs=0.005)
    assert path.coefficients == pytest.approx({"time": 0.775, "temp": 0.325})
    assert "p = 0.000206" in path.significance
    # and: the steps, coded (before rounding 0.42) and natural (5 min, 2 F)
    unrounded = steepest_ascent_path(CODED_11_1, Y_11_1, SPACE_11_1, steps=1)
    assert unrounded.step_coded == pytest.approx({"time": 1.0, "temp": 0.42}, abs=0.005)
    assert unrounded.step_natural["temp"] == pytest.approx(2.1, abs=0.01)
    assert path.base == "time" and path.step_natural == {"time": 5.0, "temp": 2.0}
    # and: Table 11.3's path, as full settings
    assert [(s["time"], s["temp"]) for s in path.settings] == [
        (35 + 5 * i, 155 + 2 * i) for i in range(13)
    ]
    assert path.stopped == "" and len(path) == 13
    assert list(path.table["step"]) == list(range(13))


def test_descent_when_minimising() -> None:
    path = steepest_ascent_path(
        CODED_11_1, Y_11_1, SPACE_11_1, steps=2, step_digits=1, maximize=False
    )
    assert [(s["time"], s["temp"]) for s in path.settings] == [(35, 155), (30, 153), (25, 151)]


def test_no_path_from_noise_lenth_finds_nothing_active() -> None:
    """Lenth (1989): in an unreplicated 2^4 of pure noise no effect exceeds the margin
    of error, so no direction is proposed (issue 31: the path was suggested from noise)."""
    # given
    rows = [[1.0 if (i >> j) & 1 else -1.0 for j in range(4)] for i in range(16)]
    coded = pd.DataFrame(rows, columns=["a", "b", "c", "d"])
    space = FactorSpace(
        factors=[ContinuousFactor(name=n, low=0.0, high=1.0) for n in ["a", "b", "c", "d"]]
    )
    y = np.random.default_rng(5).normal(0, 1, 16)
    # when / then
    with pytest.raises(InputError, match="Lenth's method finds no active main effect"):
        steepest_ascent_path(coded, y, space)


def test_no_path_from_an_insignificant_first_order_model() -> None:
    y = [40.0, 40.1, 39.9, 40.0, 40.3, 39.5, 40.7, 39.2, 40.6]
    with pytest.raises(InputError, match="not significant"):
        steepest_ascent_path(CODED_11_1, y, SPACE_11_1)


def test_no_path_when_the_centre_points_show_curvature() -> None:
    y = [39.3, 40.9, 40.0, 41.5, 45.3, 45.5, 45.7, 45.2, 45.6]
    with pytest.raises(InputError, match="curvature"):
        steepest_ascent_path(CODED_11_1, y, SPACE_11_1)


def test_path_stops_at_a_hard_limit_and_never_proposes_a_refused_value() -> None:
    # given: minimising pushes an integer leaf size (1..9) down; 9 - 4 per step
    space = FactorSpace(
        factors=[
            IntegerFactor(name="leaf", low=1, high=9),
            ContinuousFactor(name="rate", low=0.1, high=0.5),
        ]
    )
    coded = CODED_11_1.rename(columns={"time": "leaf", "temp": "rate"})
    # when
    path = steepest_ascent_path(coded, Y_11_1, space, steps=10, maximize=False)
    # then: 5, 1, then -3 is clamped to 1 and the path ends there, saying so
    assert [s["leaf"] for s in path.settings] == [5, 1, 1]
    assert all(s["rate"] > 0 for s in path.settings)
    assert "leaf would reach -3 at step 2" in path.stopped and ">= 1" in path.stopped
    assert "clamped" in path.stopped


def test_a_positive_factor_never_reaches_zero() -> None:
    # given: rate 0.1..0.5 is the base factor, moving down 0.2 a step from 0.3
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="rate", low=0.1, high=0.5),
            ContinuousFactor(name="temp", low=150, high=160),
        ]
    )
    coded = CODED_11_1.rename(columns={"time": "rate"})
    # when
    path = steepest_ascent_path(coded, Y_11_1, space, steps=5, maximize=False)
    # then
    assert [s["rate"] for s in path.settings] == pytest.approx([0.3, 0.1])
    assert "rate would reach" in path.stopped and "> 0" in path.stopped


def test_log_factor_moves_in_log_space_and_categoricals_sit_at_their_best() -> None:
    # given: C on a log scale 0.01..1 (one decade a coded unit), a categorical that varies
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="C", low=0.01, high=1.0, scale="log"),
            ContinuousFactor(name="temp", low=150, high=160),
            CategoricalFactor(name="solver", levels=["lbfgs", "saga"]),
        ]
    )
    coded = pd.concat([CODED_11_1, CODED_11_1], ignore_index=True)
    coded.columns = ["C", "temp"]
    coded["solver"] = [-1.0] * 9 + [1.0] * 9
    y = [*Y_11_1, *(v + 1.0 for v in Y_11_1)]
    # when
    path = steepest_ascent_path(coded, y, space, steps=2)
    # then: C goes 0.1, 1, 10 (a decade a step); solver held at saga and said so
    assert [s["C"] for s in path.settings] == pytest.approx([0.1, 1.0, 10.0])
    assert {s["solver"] for s in path.settings} == {"saga"}
    assert "best fitted level" in path.held["solver"]
    assert list(path.settings[0]) == ["C", "temp", "solver"]


def test_path_after_a_fold_over_with_its_blocks() -> None:
    """Montgomery section 8.6: a resolution III fraction and its full fold-over (two
    blocks) free the main effects; the path is then taken from the combined runs, the
    block shift kept out of the effects."""
    # given: lr and leaf active, a shift of 0.01 between the stages
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="lr", low=0.01, high=0.3, scale="log"),
            IntegerFactor(name="depth", low=2, high=8),
            IntegerFactor(name="leaf", low=1, high=20),
            ContinuousFactor(name="sub", low=0.5, high=1.0),
            IntegerFactor(name="trees", low=50, high=150),
        ]
    )
    design = generate_design(
        space, FoldOver(first=FractionalFactorial(resolution=3), run_order="standard")
    )
    c = design.coded
    noise = np.random.default_rng(2).normal(0, 0.004, len(c))
    y = 0.5 + 0.04 * c["lr"] - 0.03 * c["leaf"] + noise + 0.01 * (np.array(design.block) == 2)
    # when
    path = steepest_ascent_path(c, y, space, steps=6, block=list(design.block))
    # then: lr leads (a decade-scale step), leaf falls to its limit of 1 and ends the path
    assert path.significance == "Lenth's method finds lr, leaf active"
    assert path.base == "lr"
    assert [s["leaf"] for s in path.settings] == [11, 3, 1]
    assert "leaf would reach -4 at step 2" in path.stopped
    assert all(set(s) == set(space.names) for s in path.settings)
