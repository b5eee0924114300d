"""The interval a confirmation checks: one new training's score on the TEST split.

A study's response is a cross-validated score on the training split, so a
recommendation's prediction interval (`Recommendation.interval`) is for the
cross-validated response of one new run. A confirmation run is scored on
the test split instead, and that score carries a noise the cross-validated
mean does not: the sampling error of a holdout of `n_test` rows. Its variance
goes as 1/n (each row's loss or hit is one draw; Hastie, Tibshirani &
Friedman, ESL 2nd ed., section 7.10; the binomial variance p(1-p)/n of an
accuracy is the textbook case), and the k held-out folds of the
cross-validation measure it at fold size: the fold-to-fold variance of the
fold scores, s_fold^2 (their training parts overlap, so this spread is mostly
the held-out sampling error, which is what is wanted here). Scaled to the
test split,

    var_holdout = s_fold^2 * (fold size / test size)
                = s_fold^2 * (1 - t) / (k * t)    (t = test fraction, k = folds)

The predicted value is itself a cross-validated mean over the n_train
training rows (each held out once), so it carries a holdout error of its own,
s_fold^2 / k, shared by every run of the study (they all use the same folds,
so no model residual or replicate spread sees it). The test score and the
cross-validated mean are independent holdout estimates (disjoint rows), so
the 95% prediction interval for one confirmation run's test score is

    predicted +- t(0.975, df) * sqrt(se^2 + var_holdout + s_fold^2 / k)

with se the recommendation's standard deviation for one new run's response
(model or replicate spread) and df by Welch-Satterthwaite from the parts
(Satterthwaite 1946; the pooled fold variance has runs * (k - 1) df). For
t = 0.2 and k = 5 the two holdout terms add up to s_fold^2 exactly.

A best run (no model fits) is a setting the study measured: its own runs'
fold scores are the evidence, so se is its replicates' spread (the training
seed's noise) when they measured one, and 0 when they agreed exactly or the
setting was run once (the folds' spread carries that noise too). The spread
of a fit across the whole region, or of all runs, is not used: it measures
how settings differ, not how this one scores on new rows (the wine study's
best run got [-0.36, 0.49] from it around runs of 0.13). With fold size equal
to the test size (k = 4 folds, 20 % test) this is the textbook prediction
interval for one future observation from the k fold scores, mean +-
t(k - 1) * s * sqrt(1 + 1/k) (Montgomery & Runger, Applied Statistics and
Probability for Engineers, section 8-7). CV folds share most of their
training rows, so their scores are correlated and their spread understates
the variance of their mean (Bengio & Grandvalet 2004, JMLR 5): the interval is
approximate. Clipped to the metric's bounds (`metric_bounds`: a log loss is
never below 0, r2 never above 1, an accuracy in [0, 1]).

The winner's curse: a best run is the best of M settings' noisy means, so
its mean is biased toward "better" (the expected maximum of M noisy
estimates exceeds the maximum of their true values; Thaler 1988 for the
name, Cawley & Talbot 2010, JMLR 11, for the same bias in model selection by
cross-validation). The interval is widened on the WORSE side by
sd_cv * E[max of M standard normals] (Blom's approximation), where
sd_cv = s_fold / sqrt(k) is the noise of one cross-validated mean and M the
settings whose mean is within 2 * sqrt(2) * sd_cv of the best (the ones
that could have won by noise alone). The predicted value is not moved: the
interval says how much worse the test score may plausibly be.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from libs.doe.recommend import Recommendation
from libs.errors import InputError


@dataclass(frozen=True)
class HoldoutPrediction:
    """A prediction interval for one new training's score on the test split.

    `interval`: for a test-split score (what a confirmation measures);
    `cv_interval`: the recommendation's, for the cross-validated response.
    `holdout_sd`: the holdout noise of a test-split score less the predicted
    cross-validated mean; `optimism`: how far
    the worse side was widened for the winner's curse (0 for a model's point).
    """

    predicted: float
    interval: tuple[float, float]
    cv_interval: tuple[float, float]
    holdout_sd: float
    optimism: float
    df: float
    level: float
    reason: str


def holdout_variance(fold_sds: Sequence[float], folds: int, test_fraction: float) -> float:
    """The variance of a test-split score from the fold-to-fold spread of CV scores.

    `fold_sds`: `cv.<metric>.std` of each run pooled (each has k - 1 df, so the
    pooled variance is their mean square); scaled by fold size / test size
    = (1 - t) / (k t), since a holdout score's variance goes as 1 / rows.
    """
    if folds < 2:
        raise InputError(f"folds: cross-validation needs at least 2 folds, got {folds}")
    if not 0 < test_fraction < 1:
        raise InputError(f"test_fraction: must be between 0 and 1, got {test_fraction}")
    sds = [float(s) for s in fold_sds if math.isfinite(float(s)) and float(s) >= 0]
    if not sds:
        raise InputError("fold_sds: no finite fold standard deviation to pool")
    pooled = float(np.mean(np.square(sds)))
    return pooled * (1 - test_fraction) / (folds * test_fraction)


def expected_max_normal(m: int) -> float:
    """E[max of m independent standard normals], Blom's approximation (0 for m = 1)."""
    if m <= 1:
        return 0.0
    return float(stats.norm.ppf((m - 0.375) / (m + 0.25)))


def close_competitors(means: Sequence[float], best: float, sd_cv: float) -> int:
    """How many settings' means are within 2 * sqrt(2) * sd_cv of the best (the best
    included): the ones that could have come out on top by the CV noise alone."""
    if not sd_cv > 0:
        return 1
    reach = 2 * math.sqrt(2) * sd_cv
    return max(1, sum(abs(float(m) - best) <= reach for m in means))


# The range a metric's value can take (a custom or unknown metric: unbounded).
_UNIT = (0.0, 1.0)
METRIC_BOUNDS: dict[str, tuple[float, float]] = {
    "accuracy": _UNIT,
    "balanced_accuracy": _UNIT,
    "precision_macro": _UNIT,
    "recall_macro": _UNIT,
    "f1_macro": _UNIT,
    "precision_weighted": _UNIT,
    "recall_weighted": _UNIT,
    "f1_weighted": _UNIT,
    "roc_auc": _UNIT,
    "mcc": (-1.0, 1.0),
    "log_loss": (0.0, math.inf),
    "rmse": (0.0, math.inf),
    "mae": (0.0, math.inf),
    "mape": (0.0, math.inf),
    "r2": (-math.inf, 1.0),
}


def metric_bounds(metric: str) -> tuple[float, float]:
    """The values metric `metric` can take: (0, inf) for a loss or error, (-inf, 1) for r2,
    (0, 1) for an accuracy-like score; (-inf, inf) for a metric this table does not know."""
    return METRIC_BOUNDS.get(metric, (-math.inf, math.inf))


def _own_spread(recommendation: Recommendation) -> tuple[float, float, str]:
    """(se, df, words) of one new run's cross-validated response about `predicted`, as the
    test-split interval uses it: a best run keeps only its replicates' spread (module doc)."""
    se = recommendation.se if math.isfinite(recommendation.se) else 0.0
    if recommendation.source != "best run" or recommendation.spread == "replicates":
        return se, (recommendation.df if se > 0 else 0.0), "one new run's cross-validated response"
    return 0.0, 0.0, "the best run's replicates measured no spread of their own"


def holdout_interval(
    recommendation: Recommendation,
    fold_sds: Sequence[float],
    *,
    folds: int,
    test_fraction: float,
    means: Sequence[float] = (),
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> HoldoutPrediction:
    """The prediction interval for one confirmation run's TEST-split score (module doc).

    `fold_sds`: `cv.<metric>.std` of the runs the holdout noise is pooled from
    (the recommended setting's own runs where it was run, else every run);
    `means`: each distinct setting's mean response (for the winner's curse of
    a best-run recommendation; ignored for a model's point); `bounds`: the
    metric's possible values (`metric_bounds`), the interval is clipped to them.
    """
    level = recommendation.level
    var_test = holdout_variance(fold_sds, folds, test_fraction)
    pooled = var_test * folds * test_fraction / (1 - test_fraction)  # s_fold^2
    var_h = var_test + pooled / folds  # the test split's and the CV mean's holdout errors
    df_h = float(len(fold_sds) * (folds - 1))
    se, df_p, own = _own_spread(recommendation)
    var = se**2 + var_h
    if not var > 0:
        raise InputError(
            "fold_sds: every fold scored the same and the runs have no spread: "
            "no interval can be stated"
        )
    # Welch-Satterthwaite: df of a sum of two independent variance estimates
    parts = [(se**2, df_p), (var_h, df_h)]
    denom = sum(v**2 / d for v, d in parts if v > 0 and d > 0)
    df = var**2 / denom if denom > 0 else df_h
    half = float(stats.t.ppf(1 - (1 - level) / 2, df)) * math.sqrt(var)
    optimism = 0.0
    m = 1
    if recommendation.source == "best run" and len(means) > 1:
        sd_cv = math.sqrt(pooled / folds)
        m = close_competitors(means, recommendation.predicted, sd_cv)
        optimism = sd_cv * expected_max_normal(m)
    low, high = recommendation.predicted - half, recommendation.predicted + half
    if recommendation.maximize:
        low -= optimism
    else:
        high += optimism
    floor, ceiling = bounds
    clipped = low < floor or high > ceiling
    low, high = max(low, floor), min(high, ceiling)
    curse = (
        f"; widened by {optimism:.3g} on the worse side for picking the best of {m} settings "
        "within noise of each other (the winner's curse)"
        if optimism > 0
        else ""
    )
    reason = (
        f"{100 * level:.0f}% prediction interval for a test-split score: predicted "
        f"{recommendation.predicted:.4g} +- t({df:.0f} df) * sqrt({se:.3g}^2 [{own}] + "
        f"{math.sqrt(var_h):.3g}^2 [holdout noise of the test "
        f"split and of the cross-validated mean, from the folds' spread scaled by fold "
        f"size / test size = {(1 - test_fraction) / (folds * test_fraction):.3g} and by "
        f"1/{folds}]){curse}"
        + (f"; clipped to the metric's range [{floor:g}, {ceiling:g}]" if clipped else "")
    )
    return HoldoutPrediction(
        predicted=recommendation.predicted,
        interval=(low, high),
        cv_interval=recommendation.interval,
        holdout_sd=math.sqrt(var_h),
        optimism=optimism,
        df=df,
        level=level,
        reason=reason,
    )


__all__ = [
    "HoldoutPrediction",
    "close_competitors",
    "expected_max_normal",
    "holdout_interval",
    "holdout_variance",
    "metric_bounds",
]
