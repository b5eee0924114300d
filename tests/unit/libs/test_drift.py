"""libs.drift: PSI and KS against hand computation and scipy, flags, streaming equivalence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from libs.drift import (
    MISSING,
    OTHER,
    TABLE_COLUMNS,
    DriftAccumulator,
    DriftSpec,
    build_reference,
    compare,
    ks_statistic,
    population_stability_index,
)
from libs.errors import InputError


def test_psi_matches_hand_computation() -> None:
    # given: shares 0.5/0.3/0.2 against 0.2/0.3/0.5
    reference, current = [50, 30, 20], [20, 30, 50]
    # when
    psi = population_stability_index(reference, current)
    # then: (0.2-0.5)ln(0.2/0.5) + 0 + (0.5-0.2)ln(0.5/0.2) = 0.6 ln 2.5
    assert psi == pytest.approx(0.6 * math.log(2.5), rel=1e-12)


def test_psi_floors_empty_buckets_at_epsilon() -> None:
    # given: the current side never falls in the second bucket
    # when
    psi = population_stability_index([1, 1], [2, 0])
    # then: shares (0.5, 0.5) vs (1, 1e-4)
    expected = (1 - 0.5) * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert psi == pytest.approx(expected, rel=1e-12)


def test_psi_is_zero_for_equal_shares_and_nan_without_rows() -> None:
    assert population_stability_index([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0, abs=1e-15)
    assert math.isnan(population_stability_index([1, 2], [0, 0]))
    with pytest.raises(ValueError, match="shape"):
        population_stability_index([1, 2], [1, 2, 3])


def test_ks_statistic_equals_scipy_ks_2samp() -> None:
    # given: two fixed samples with ties and different sizes
    rng = np.random.default_rng(7)
    a = rng.normal(0.0, 1.0, 300).round(1)
    b = rng.normal(0.4, 1.2, 170).round(1)
    # when
    ours = ks_statistic(a, b)
    # then
    assert ours == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)
    assert ks_statistic(a, a) == 0.0
    assert math.isnan(ks_statistic(a, []))


def test_numeric_buckets_follow_reference_quantiles_and_count_missing() -> None:
    # given: 0..99 in four quantile bins, and an input at the top with two gaps
    reference = pd.DataFrame({"x": np.arange(100, dtype=float)})
    current = pd.DataFrame({"x": [80.0, 90.0, 95.0, np.nan, np.nan, 10.0]})
    spec = DriftSpec(bins=4)
    # when
    result = compare(reference, current, ["x"], spec)
    # then: edges 24.75, 49.5, 74.25; reference 25 per bin, current 1/0/0/3 and 2 missing
    labels, ref_share, cur_share = result.histograms["x"]
    assert labels[-1] == MISSING and len(labels) == 5
    assert ref_share == [0.25, 0.25, 0.25, 0.25, 0.0]
    assert cur_share == pytest.approx([1 / 6, 0, 0, 3 / 6, 2 / 6])
    expected = population_stability_index([25, 25, 25, 25, 0], [1, 0, 0, 3, 2])
    assert result.table.loc[0, "psi"] == pytest.approx(expected)
    assert result.table.loc[0, "ks"] == pytest.approx(
        ks_2samp(np.arange(100.0), [80.0, 90.0, 95.0, 10.0]).statistic
    )


def test_categorical_buckets_keep_frequent_categories_and_pool_the_rest() -> None:
    # given: 'c' is below the share floor in the reference; the input has an unseen 'z'
    reference = pd.DataFrame({"plan": ["a"] * 60 + ["b"] * 39 + ["c"]})
    current = pd.DataFrame({"plan": ["a", "b", "z", None]})
    # when
    result = compare(reference, current, spec=DriftSpec(min_category_share=0.05))
    # then
    labels, ref_share, cur_share = result.histograms["plan"]
    assert labels == ["a", "b", OTHER, MISSING]
    assert ref_share == pytest.approx([0.60, 0.39, 0.01, 0.0])
    assert cur_share == pytest.approx([0.25, 0.25, 0.25, 0.25])
    assert result.table.loc[0, "kind"] == "categorical"
    assert math.isnan(result.table.loc[0, "ks"])


def test_shifted_feature_is_flagged_and_unshifted_sample_is_not() -> None:
    # given
    rng = np.random.default_rng(0)
    training = pd.DataFrame(
        {
            "x": rng.normal(10, 2, 2000),
            "n": rng.integers(0, 6, 2000),
            "c": rng.choice(["a", "b", "c"], 2000, p=[0.5, 0.3, 0.2]),
        }
    )
    unshifted = training.sample(500, random_state=1)
    shifted = unshifted.assign(x=unshifted["x"] * 3)
    # when
    stable = compare(training, unshifted)
    drifted = compare(training, shifted)
    # then
    assert list(stable.table.columns) == list(TABLE_COLUMNS)
    assert stable.flagged == []
    assert drifted.flagged == ["x"]
    assert drifted.table.set_index("feature").loc["x", "psi"] > 1.0


def test_ks_threshold_flags_too_when_set() -> None:
    # given: a small location shift, below the PSI threshold but visible to KS
    rng = np.random.default_rng(3)
    training = pd.DataFrame({"x": rng.normal(0, 1, 5000)})
    current = pd.DataFrame({"x": rng.normal(0.15, 1, 5000)})
    # when
    psi_only = compare(training, current, spec=DriftSpec(psi_threshold=0.2))
    with_ks = compare(training, current, spec=DriftSpec(psi_threshold=0.2, ks_threshold=0.03))
    # then
    assert psi_only.flagged == []
    assert with_ks.flagged == ["x"]


def test_chunked_accumulation_equals_one_pass() -> None:
    # given: sample_rows above the row count, so both keep every value
    rng = np.random.default_rng(5)
    training = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(list("abc"), 300)})
    current = pd.DataFrame({"x": rng.normal(1, 1, 250), "c": rng.choice(list("abd"), 250)})
    reference = build_reference(training, ["x", "c"], DriftSpec(sample_rows=1000))
    # when
    chunked = DriftAccumulator(reference)
    for start in range(0, len(current), 40):
        chunked.update(current.iloc[start : start + 40])
    whole = DriftAccumulator(reference)
    whole.update(current)
    # then
    pd.testing.assert_frame_equal(chunked.result().table, whole.result().table)
    assert chunked.result().rows == 250


def test_reservoir_sample_stays_bounded() -> None:
    # given
    reference = build_reference(
        pd.DataFrame({"x": np.arange(5000.0)}), ["x"], DriftSpec(sample_rows=100)
    )
    accumulator = DriftAccumulator(reference)
    # when
    for _ in range(20):
        accumulator.update(pd.DataFrame({"x": np.arange(1000.0)}))
    # then
    assert reference.features[0].sample is not None
    assert reference.features[0].sample.size == 100
    assert accumulator._samples["x"].values.size == 100
    assert accumulator.rows == 20_000


def test_missing_columns_are_input_errors() -> None:
    reference = build_reference(pd.DataFrame({"x": [1.0, 2.0]}), ["x"])
    with pytest.raises(InputError, match="drift: input has no column x"):
        DriftAccumulator(reference).update(pd.DataFrame({"y": [1.0]}))
    with pytest.raises(InputError, match="columns not found: y"):
        build_reference(pd.DataFrame({"x": [1.0]}), ["y"])


def test_drift_spec_is_validated() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        DriftSpec(psi_threshold=0)
    with pytest.raises(ValidationError):
        DriftSpec(bins=1)
    with pytest.raises(ValidationError):
        DriftSpec(unknown=1)  # type: ignore[call-arg]
