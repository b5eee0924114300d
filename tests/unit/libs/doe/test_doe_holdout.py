"""Confirmation intervals that hold: deterministic replicates (zero pure error) and the
prediction interval for a test-split score (libs.doe.holdout), issue 31 follow-up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from doe_textbook import CCD_11_2, SPACE_11_2
from scipy import stats

from libs.doe import Recommendation, recommend
from libs.doe.anova import pure_error_estimable
from libs.doe.holdout import (
    close_competitors,
    expected_max_normal,
    holdout_interval,
    holdout_variance,
    metric_bounds,
)
from libs.errors import InputError

CCD, SPACE = CCD_11_2, SPACE_11_2  # Montgomery 9th ed., Example 11.2 (doe_textbook)


def _ccd(centre: float | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    data = pd.DataFrame(CCD, columns=["time", "temp", "y"])
    y = data["y"].to_numpy(dtype=float).copy()
    if centre is not None:  # a deterministic estimator: every centre replicate the same
        y[4:9] = centre
    return data[["time", "temp"]], y


def test_identical_replicates_leave_lack_of_fit_untested_not_significant() -> None:
    # given: Ex. 11.2 with the five centre runs scoring exactly the same (pure error 0)
    coded, y = _ccd(centre=79.94)
    # when
    rec = recommend(coded, y, SPACE)
    # then: the second-order model is used (lack of fit untested, not "p = 0"), and its
    # interval has width
    assert rec.source == "model" and rec.model == "second-order"
    assert rec.lack_of_fit_p is None
    assert "deterministic" in rec.reason and "not estimable" in rec.reason
    low, high = rec.interval
    assert high - low > 0.1 and rec.se > 0 and rec.df == 7
    # and pure error itself is called not estimable, while real replicates are
    assert not pure_error_estimable(0.0, 4, y)
    assert pure_error_estimable(0.17, 4, _ccd()[1])


def test_a_best_run_of_identical_replicates_never_has_a_zero_width_interval() -> None:
    # given: noise on the CCD, the best setting being the centre, replicated identically
    coded, _ = _ccd()
    y = np.random.default_rng(0).normal(10, 1, len(coded))
    y[4:9] = y.max() + 0.1
    # when
    rec = recommend(coded, y, SPACE)
    # then: the best run is the centre (five runs), its interval from the model residual
    assert rec.source == "best run" and rec.runs == 5
    low, high = rec.interval
    assert math.isfinite(low) and high - low > 0.5
    assert "pure error is not estimable" in rec.reason
    assert rec.spread == "residual"  # a spread across settings: the test-split interval drops it


def test_holdout_variance_scales_by_fold_size_over_test_size() -> None:
    # given: 1000 rows, 20 % test (200 rows), 5 folds of the 800 training rows (160 rows)
    sds = [0.1, 0.3]  # pooled: mean of the variances = 0.05
    # when / then: a holdout's variance goes as 1/rows: 0.05 * 160 / 200
    assert holdout_variance(sds, folds=5, test_fraction=0.2) == pytest.approx(0.05 * 0.8)
    # a test split twice as large (40 %, 400 rows; folds of 120): variance * 120 / 400
    assert holdout_variance(sds, folds=5, test_fraction=0.4) == pytest.approx(0.05 * 0.3)
    with pytest.raises(InputError, match="fold_sds"):
        holdout_variance([math.nan], folds=5, test_fraction=0.2)
    with pytest.raises(InputError, match="folds"):
        holdout_variance([0.1], folds=1, test_fraction=0.2)


def _rec(se: float, df: float, source: str = "model", maximize: bool = False) -> Recommendation:
    return Recommendation(
        settings={"time": 85.0, "temp": 175.0},
        predicted=0.10,
        interval=(0.10 - 2 * se, 0.10 + 2 * se),
        source=source,
        reason="",
        maximize=maximize,
        se=se,
        df=df,
    )


def test_the_holdout_interval_adds_holdout_noise_with_satterthwaite_df() -> None:
    # given: a model prediction (se 0.02 on 10 df); four runs' folds spread 0.05 (k = 5)
    rec = _rec(0.02, 10)
    # when
    out = holdout_interval(rec, [0.05] * 4, folds=5, test_fraction=0.2)
    # then: var = se^2 + s_fold^2 * (0.8 [test split] + 1/5 [the CV mean]) = 0.0004 + 0.0025
    var_h = 0.05**2 * (0.8 + 0.2)
    var = 0.02**2 + var_h
    df = var**2 / (0.02**4 / 10 + var_h**2 / 16)
    half = stats.t.ppf(0.975, df) * math.sqrt(var)
    assert out.df == pytest.approx(df)
    assert out.interval == pytest.approx((0.10 - half, 0.10 + half))
    assert out.cv_interval == rec.interval and out.optimism == 0.0
    assert out.holdout_sd == pytest.approx(0.05)
    assert "test-split score" in out.reason


def test_a_best_run_interval_is_widened_on_the_worse_side_for_the_winners_curse() -> None:
    # given: a deterministic best run (no spread of its own) picked from settings within noise
    rec = _rec(math.nan, 0, source="best run", maximize=False)  # log loss: lower is better
    means = [0.10, 0.11, 0.12, 0.5]  # three within 2 sqrt(2) sd_cv (sd_cv = 0.05/sqrt(5))
    # when
    out = holdout_interval(rec, [0.05] * 4, folds=5, test_fraction=0.2, means=means)
    # then: the worse (upper) side widens by sd_cv * E[max of 3 normals]; the lower does not
    sd_cv = 0.05 / math.sqrt(5)
    assert close_competitors(means, 0.10, sd_cv) == 3
    assert out.optimism == pytest.approx(sd_cv * expected_max_normal(3))
    half = stats.t.ppf(0.975, 16) * 0.05
    assert out.interval == pytest.approx((0.10 - half, 0.10 + half + out.optimism))
    assert expected_max_normal(1) == 0.0
    assert expected_max_normal(2) == pytest.approx(1 / math.sqrt(math.pi), abs=0.03)
    assert "winner's curse" in out.reason


def test_the_holdout_interval_covers_95_percent_of_holdout_scores() -> None:
    # given: a fixed (deterministic) model whose per-row losses are skewed (gamma, mean 0.1);
    # 250 rows: 50 to test, 200 to train in 5 folds of 40; the CV mean is the prediction
    rng = np.random.default_rng(7)
    hits, sims = 0, 2000
    for _ in range(sims):
        rows = rng.gamma(2.0, 0.05, 250)
        folds = rows[:200].reshape(5, 40).mean(axis=1)
        test = rows[200:].mean()
        rec = Recommendation(
            settings={}, predicted=float(folds.mean()), interval=(math.nan, math.nan),
            source="best run", reason="", maximize=False,
        )  # fmt: skip
        low, high = holdout_interval(
            rec, [float(folds.std(ddof=1))], folds=5, test_fraction=0.2
        ).interval
        hits += low <= test <= high
    # then: about 95 % (the binomial sd of 2000 draws is 0.5 %)
    assert 0.93 <= hits / sims <= 0.97


def test_after_a_gp_stage_the_pick_is_at_least_the_best_run() -> None:
    # given: scattered runs (as a GP batch leaves them) of a sharp optimum a quadratic
    # cannot follow: log loss low only near one run
    rng = np.random.default_rng(3)
    coded = pd.DataFrame(rng.uniform(-1, 1, (12, 2)), columns=["time", "temp"])
    r2 = (coded["time"] - 0.3) ** 2 + (coded["temp"] + 0.2) ** 2
    y = (0.05 + 1.0 * (1 - np.exp(-8 * r2))).to_numpy()
    best = int(np.argmin(y))
    # when
    rec = recommend(coded, y, SPACE, maximize=False, at_least_best_run=True)
    # then: the best observed setting, with the reason
    assert rec.source == "best run" and rec.predicted == pytest.approx(y[best])
    assert rec.coded == pytest.approx(coded.iloc[best].to_dict())
    assert "best run" in rec.reason or "too loosely" in rec.reason


def test_after_a_gp_stage_a_well_fitting_model_may_still_move_the_pick() -> None:
    # given: Ex. 11.2 (a quadratic with no lack of fit, replicated centre)
    coded, y = _ccd()
    # when
    rec = recommend(coded, y, SPACE, at_least_best_run=True)
    # then: its predicted maximum (80.21 near time 87, temp 176.5) beats every run (80.3 is
    # one centre run; the centre's mean 79.94 is the best setting's mean)
    assert rec.source == "model" and rec.predicted > 79.94


def test_after_a_gp_stage_a_far_corner_the_runs_do_not_support_is_not_the_pick() -> None:
    # given: runs crowded in one half of the region (as a GP batch leaves them) on a plane,
    # with noise; a quadratic through them claims much more in the empty far corner
    rng = np.random.default_rng(5)
    coded = pd.DataFrame(rng.uniform(-1, 0, (12, 2)), columns=["time", "temp"])
    for corner in ([1.0, -1.0], [-1.0, 1.0], [0.0, 0.0], [0.0, 0.0]):  # the region's span
        coded.loc[len(coded)] = corner
    y = (0.5 + 0.2 * coded["time"] + 0.2 * coded["temp"] + 0.15 * coded["time"] ** 2).to_numpy()
    y = y + rng.normal(0, 0.01, len(y))
    free = recommend(coded, y, SPACE)
    assert free.source == "model" and min(free.coded.values()) > 0.5  # the far corner
    # when
    rec = recommend(coded, y, SPACE, at_least_best_run=True)
    # then: the best observed setting, saying why
    assert rec.source == "best run"
    assert "coded units from the nearest run" in rec.reason and "extrapolation" in rec.reason


def _best(spread: str, se: float, df: float, predicted: float) -> Recommendation:
    return Recommendation(
        settings={"time": 85.0, "temp": 175.0},
        predicted=predicted,
        interval=(predicted - 2 * se, predicted + 2 * se),
        source="best run",
        reason="",
        maximize=False,
        se=se,
        df=df,
        spread=spread,
    )


def test_a_best_run_interval_is_the_textbook_one_from_its_own_folds() -> None:
    """Montgomery & Runger, section 8-7: one future observation from n = 4 scores is
    mean +- t(0.025, 3) * s * sqrt(1 + 1/4). With 4 folds and 20 % test, a fold is as
    large as the test split, so the holdout interval of a best run is exactly that."""
    # given: a deterministic best run (replicates agreed, so its spread came from the
    # model's residual over the whole region: 0.2, as in the wine study) and its four folds
    folds = [0.10, 0.14, 0.12, 0.08]  # mean 0.11, s = sqrt(0.002 / 3) = 0.02582
    s = float(np.std(folds, ddof=1))
    rec = _best("residual", se=0.2, df=6, predicted=0.11)
    # when
    out = holdout_interval(rec, [s], folds=4, test_fraction=0.2)
    # then: 0.11 +- 3.182 * 0.02582 * 1.118 = 0.11 +- 0.0919; the residual is not used
    half = 3.1824 * 0.025820 * math.sqrt(1.25)
    assert out.interval == pytest.approx((0.11 - half, 0.11 + half), abs=1e-4)
    assert out.interval == pytest.approx((0.0181, 0.2019), abs=1e-4)
    assert out.df == 3
    assert "measured no spread of their own" in out.reason


def test_a_best_run_with_replicates_adds_their_spread() -> None:
    # given: the best setting's replicates measured a training-seed spread (se 0.03, 4 df)
    rec = _best("replicates", se=0.03, df=4, predicted=0.11)
    # when
    out = holdout_interval(rec, [0.04, 0.04], folds=4, test_fraction=0.2)
    # then: var = 0.03^2 + 0.04^2 * (1 + 1/4), df by Satterthwaite (4 and 2 * 3 df)
    var_h = 0.04**2 * 1.25
    var = 0.03**2 + var_h
    df = var**2 / (0.03**4 / 4 + var_h**2 / 6)
    half = stats.t.ppf(0.975, df) * math.sqrt(var)
    assert out.interval == pytest.approx((0.11 - half, 0.11 + half))


def test_the_interval_stays_inside_the_metric_range() -> None:
    # given: a log loss best run near 0 (folds 0.02, 0.06, 0.04, 0.00: s = 0.02582)
    rec = _best("", se=math.nan, df=0, predicted=0.03)
    # when
    out = holdout_interval(
        rec, [0.025820], folds=4, test_fraction=0.2, bounds=metric_bounds("log_loss")
    )
    # then: the lower end 0.03 - 0.0919 is clipped to 0, the upper one is kept
    assert out.interval == pytest.approx((0.0, 0.03 + 0.0919), abs=1e-4)
    assert "clipped to the metric's range [0, inf]" in out.reason
    assert metric_bounds("r2") == (-math.inf, 1.0)
    assert metric_bounds("accuracy") == (0.0, 1.0)
    assert metric_bounds("my_profit") == (-math.inf, math.inf)


def test_a_models_interval_keeps_its_own_prediction_error() -> None:
    # given: a model's point (se from statsmodels' obs_ci, Montgomery DAE section 10.6)
    rec = _rec(0.02, 10)
    # when: four folds of one size as the test split
    out = holdout_interval(rec, [0.05], folds=4, test_fraction=0.2)
    # then: its se enters beside the holdout noise
    assert out.holdout_sd == pytest.approx(0.05 * math.sqrt(1.25))
    var = 0.02**2 + 0.05**2 * 1.25
    assert out.interval[1] - 0.10 > stats.t.ppf(0.975, 1000) * math.sqrt(var) - 1e-9
