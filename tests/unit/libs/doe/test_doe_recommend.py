"""Recommendations with prediction intervals, and their confirmation (issue 31).

Montgomery, Design and Analysis of Experiments (9th ed.), Example 11.2 (a
rotatable CCD whose fitted maximum is at x1 = 0.389, x2 = 0.306 with
predicted yield 80.21) and constructed data with known answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from doe_textbook import CCD_11_2, SPACE_11_2
from scipy import stats

from libs.doe import (
    CategoricalFactor,
    CentralComposite,
    ContinuousFactor,
    FactorSpace,
    IntegerFactor,
    Recommendation,
    confirmation_verdict,
    generate_design,
    recommend,
)
from libs.errors import InputError


def ccd_11_2() -> tuple[pd.DataFrame, pd.Series]:
    data = pd.DataFrame(CCD_11_2, columns=["time", "temp", "y"])
    return data[["time", "temp"]], data["y"]


def test_recommends_the_fitted_maximum_with_a_prediction_interval_montgomery_11_2() -> None:
    """Montgomery Ex. 11.2: the stationary point x1 = 0.389, x2 = 0.306 (86.95 min,
    176.5 F) is a maximum inside the design's sphere with predicted yield 80.21; the
    95% prediction interval for one run is y0 +- t(0.025, 7) sqrt(MSE (1 + x0'(X'X)^-1 x0)),
    with MSE = 0.50 / 7 (Montgomery section 10.6)."""
    # given
    coded, y = ccd_11_2()
    # when
    rec = recommend(coded, y, SPACE_11_2)
    # then: the fitted optimum, as it would be run (four significant digits)
    assert rec.source == "model" and rec.model == "second-order"
    assert rec.settings == {"time": 86.95, "temp": 176.5}
    assert rec.coded["time"] == pytest.approx(0.39) and rec.coded["temp"] == pytest.approx(0.30)
    assert rec.predicted == pytest.approx(80.21, abs=0.01)
    assert rec.lack_of_fit_p is not None and rec.lack_of_fit_p > 0.05
    # and: the interval, recomputed by hand at the rounded setting
    x = coded.to_numpy()
    design = np.column_stack([np.ones(13), x, x[:, 0] * x[:, 1], x[:, 0] ** 2, x[:, 1] ** 2])
    beta, rss = np.linalg.lstsq(design, y, rcond=None)[:2]
    x0 = np.array([1, 0.39, 0.30, 0.39 * 0.30, 0.39**2, 0.30**2])
    mse = float(rss[0]) / 7
    assert mse == pytest.approx(0.50 / 7, abs=0.002)
    half = stats.t.ppf(0.975, 7) * np.sqrt(mse * (1 + x0 @ np.linalg.inv(design.T @ design) @ x0))
    assert rec.interval == pytest.approx((x0 @ beta - half, x0 @ beta + half), abs=1e-9)
    assert "time" in rec.reason and "spherical" in rec.reason and rec.held == {}


def test_integer_factor_is_rounded_and_predicted_where_it_will_run() -> None:
    # given: a maximum at coded 0.3 of an integer factor 1..9 (natural 6.2)
    space = FactorSpace(
        factors=[
            IntegerFactor(name="depth", low=1, high=9),
            ContinuousFactor(name="rate", low=0.0, high=1.0),
        ]
    )
    coded = generate_design(space, CentralComposite(face="faced")).coded
    coded = pd.concat([coded, coded.iloc[[-1]]], ignore_index=True)  # one more centre run
    rng = np.random.default_rng(1)
    d, r = coded["depth"], coded["rate"]
    y = 5 - (d - 0.3) ** 2 - (r + 0.1) ** 2 + rng.normal(0, 0.01, len(coded))
    # when
    rec = recommend(coded, y, space)
    # then: depth 6.2 is trained as 6, and the prediction is the model's at depth 6
    assert rec.settings["depth"] == 6 and isinstance(rec.settings["depth"], int)
    assert rec.coded["depth"] == pytest.approx(0.25)
    expected = 5 - (0.25 - 0.3) ** 2 - (rec.coded["rate"] + 0.1) ** 2
    assert rec.predicted == pytest.approx(expected, abs=0.02)
    assert "rounded depth 6.2" in rec.reason and "-> 6 (integer)" in rec.reason


def test_best_run_when_nothing_is_significant() -> None:
    # given: pure noise on the Ex. 11.2 design, with one setting replicated
    coded, _ = ccd_11_2()
    y = np.random.default_rng(0).normal(10, 1, len(coded))
    # when
    rec = recommend(coded, y, SPACE_11_2)
    # then: the best mean of a setting (the five centre runs form one setting),
    # with an interval from the centre runs' spread
    assert rec.source == "best run" and rec.model == ""
    keys = [tuple(r) for r in coded.to_numpy()]
    means = pd.Series(y, index=pd.MultiIndex.from_tuples(keys)).groupby(level=[0, 1]).mean()
    best = means.idxmax()
    m = keys.count(best)
    assert rec.predicted == pytest.approx(means[best]) and rec.runs == m
    assert rec.coded == pytest.approx({"time": best[0], "temp": best[1]})
    centre = y[4:9]
    half = stats.t.ppf(0.975, 4) * centre.std(ddof=1) * np.sqrt(1 + 1 / m)
    assert rec.interval == pytest.approx((means[best] - half, means[best] + half))
    assert "no effect of time, temp is significant" in rec.reason


def test_best_run_uses_the_mean_of_replicates() -> None:
    # given: a 2^2 run twice; the best single run is not the best mean
    space = SPACE_11_2
    coded = pd.DataFrame(
        [[-1, -1], [1, -1], [-1, 1], [1, 1]] * 2, columns=["time", "temp"], dtype=float
    )
    y = [1.0, 2.0, 3.0, 9.0, 1.2, 2.2, 3.1, -6.0]  # (1, 1) scores 9 once, -6 once
    # when
    rec = recommend(coded, y, space)
    # then
    assert rec.source == "best run" and rec.runs == 2
    assert rec.settings == {"time": 80.0, "temp": 180.0}
    assert rec.predicted == pytest.approx(3.05)


def test_no_fitted_optimum_under_significant_lack_of_fit() -> None:
    """Montgomery 9th ed. section 11.3: a surface with significant lack of fit is not
    used to locate an optimum; the report says to augment, transform or narrow."""
    # given: a cubic a quadratic cannot follow, replicated centre runs
    coded, _ = ccd_11_2()
    x1, x2 = coded["time"], coded["temp"]
    noise = np.array([0, 0, 0, 0, 0.01, -0.01, 0.02, 0, -0.02, 0, 0, 0, 0])
    y = 3 * x1**3 + 2 * x2 + noise
    # when
    rec = recommend(coded, y, SPACE_11_2)
    # then
    assert rec.source == "best run"
    assert "lack of fit" in rec.reason and "augment" in rec.reason and "narrow" in rec.reason


def test_factors_outside_the_surface_are_held_at_their_best_and_named() -> None:
    # given: a surface in two numeric factors; a categorical that varies; one held constant
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="time", low=80, high=90),
            ContinuousFactor(name="temp", low=170, high=180),
            CategoricalFactor(name="solver", levels=["a", "b", "c"]),
            IntegerFactor(name="leaf", low=1, high=9),
            CategoricalFactor(name="loss", levels=["l1", "l2"]),
        ]
    )
    coded, y = ccd_11_2()
    frame = pd.concat([coded, coded], ignore_index=True)
    frame["solver"] = [-1.0] * 13 + [1.0] * 13  # 'a' then 'c'
    frame["leaf"] = 0.5  # every run at leaf 7
    yy = np.concatenate([y.to_numpy(), y.to_numpy() + 2.0])
    # when
    rec = recommend(frame, yy, space, hold={"loss": "l2"})
    # then: every factor, in the space's order, with a reason for each one held
    assert list(rec.settings) == ["time", "temp", "solver", "leaf", "loss"]
    assert rec.settings["solver"] == "c" and rec.settings["leaf"] == 7
    assert rec.settings["loss"] == "l2"
    assert set(rec.held) == {"solver", "leaf", "loss"}
    assert "best fitted level" in rec.held["solver"] and "every run" in rec.held["leaf"]
    assert rec.predicted == pytest.approx(80.21 + 2.0, abs=0.01)


def test_a_factor_not_in_the_runs_sits_at_its_centre_and_says_so() -> None:
    space = FactorSpace(
        factors=[*SPACE_11_2.factors, CategoricalFactor(name="kernel", levels=["x", "y", "z"])]
    )
    coded, y = ccd_11_2()
    rec = recommend(coded, y, space)
    assert rec.settings["kernel"] == "y"
    assert "not varied" in rec.held["kernel"]


def test_recommend_refuses_bad_input() -> None:
    coded, y = ccd_11_2()
    with pytest.raises(InputError, match="y: 3 responses"):
        recommend(coded, [1.0, 2.0, 3.0], SPACE_11_2)
    with pytest.raises(InputError, match="not in the factor space: speed"):
        recommend(coded.rename(columns={"time": "speed"}), y, SPACE_11_2)
    with pytest.raises(InputError, match="factors: nope"):
        recommend(coded, y, SPACE_11_2, factors=["nope"])


def _rec(low: float = 9.0, high: float = 11.0, maximize: bool = True) -> Recommendation:
    return Recommendation(
        settings={"x": 1.0},
        predicted=10.0,
        interval=(low, high),
        source="model",
        reason="",
        maximize=maximize,
    )


def test_confirmation_verdict_counts_runs_inside_the_interval() -> None:
    inside, n, text = confirmation_verdict(_rec(), [9.5, 10.4, 10.9])
    assert (inside, n) == (3, 3) and text.endswith("confirmed.") and "3 of 3" in text
    inside, n, text = confirmation_verdict(_rec(), [9.5, 10.4, 11.5])
    assert (inside, n) == (2, 3) and text.endswith(": confirmed.")
    inside, n, text = confirmation_verdict(_rec(), [8.0, 8.5, 9.1])
    assert (inside, n) == (1, 3) and "not confirmed" in text and "over-optimistic" in text
    inside, n, text = confirmation_verdict(_rec(maximize=False), [8.0, 8.5, 8.2])
    assert (inside, n) == (0, 3) and "better than predicted" in text
    assert confirmation_verdict(_rec(), [])[:2] == (0, 0)


def test_a_categorical_only_study_recommends_its_best_level() -> None:
    # given: three levels, three replicates each; level 'c' is best
    space = FactorSpace(factors=[CategoricalFactor(name="loss", levels=["a", "b", "c"])])
    coded = pd.DataFrame({"loss": [-1.0, 0.0, 1.0] * 3})
    y = [1.0, 2.0, 3.0, 1.1, 2.1, 3.2, 0.9, 2.2, 2.9]
    # when
    rec = recommend(coded, y, space)
    # then: the level's mean, with a prediction interval from the one-way model
    assert rec.source == "model" and rec.settings == {"loss": "c"}
    assert rec.predicted == pytest.approx(np.mean([3.0, 3.2, 2.9]))
    assert rec.interval[0] < rec.predicted < rec.interval[1]
    assert "best predicted setting is loss=c" in rec.reason


def test_recommend_refuses_natural_values_in_place_of_coded_ones() -> None:
    coded = pd.DataFrame({"time": ["a", "b", "c"], "temp": [0.0, 1.0, -1.0]})
    with pytest.raises(InputError, match="coded: column 'time' is not numeric"):
        recommend(coded, [1.0, 2.0, 3.0], SPACE_11_2)
