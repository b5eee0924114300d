"""The two drift statistics: population stability index and the two-sample KS statistic."""

from __future__ import annotations

from typing import Any

import numpy as np

# Shares below this count as this, so an empty bucket on one side gives a large but
# finite PSI term instead of an infinite one.
EPSILON = 1e-4


def population_stability_index(
    reference_counts: Any, current_counts: Any, epsilon: float = EPSILON
) -> float:
    """PSI = sum((c - r) * ln(c / r)) over buckets, on shares floored at `epsilon`.

    Zero for identical distributions, symmetric, and additive over buckets.
    Either side with no rows at all gives NaN: there is nothing to compare.
    """
    ref = np.asarray(reference_counts, dtype=float)
    cur = np.asarray(current_counts, dtype=float)
    if ref.shape != cur.shape or ref.ndim != 1:
        raise ValueError(f"bucket counts differ in shape: {ref.shape} vs {cur.shape}")
    if ref.sum() <= 0 or cur.sum() <= 0:
        return float("nan")
    r = np.maximum(ref / ref.sum(), epsilon)
    c = np.maximum(cur / cur.sum(), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def ks_statistic(reference: Any, current: Any) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two ECDFs.

    Equal to `scipy.stats.ks_2samp(...).statistic`; NaN when either side is empty.
    """
    a = np.sort(np.asarray(reference, dtype=float))
    b = np.sort(np.asarray(current, dtype=float))
    if a.size == 0 or b.size == 0:
        return float("nan")
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


__all__ = ["EPSILON", "ks_statistic", "population_stability_index"]
