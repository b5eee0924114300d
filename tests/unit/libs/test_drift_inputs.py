"""Drift covers the model's inputs only, with dates compared as dates (issue 35).

The columns come from the feature spec the model was trained with, resolved on its
training data as training resolved them: a dropped id is not scored; a date column
(listed under `features.datetime`, or of datetime dtype) is binned on its timestamps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from libs.drift import DriftAccumulator, build_reference, compare, model_inputs

FEATURES = {
    "numeric": {"columns": ["age"]},
    "categorical": {"columns": ["plan"]},
    "datetime": {"columns": ["signup_date"]},
    "drop": ["customer_id"],
}


def _customers(n: int, start: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=n, freq="D")
    return pd.DataFrame(
        {
            "customer_id": np.arange(n) + seed * 10_000,
            "age": rng.normal(40, 8, n).round(),
            "plan": rng.choice(["basic", "pro"], n),
            "signup_date": days.strftime("%Y-%m-%d"),  # text, as a CSV reads it
            "churned": rng.integers(0, 2, n),
        }
    )


def test_model_inputs_leave_out_dropped_columns_and_the_target() -> None:
    # given: the training data of a config that drops customer_id
    frame = _customers(50, "2024-01-01")
    # when
    inputs = model_inputs(FEATURES, frame, "churned")
    # then
    assert inputs is not None
    assert inputs.columns == ["age", "plan", "signup_date"]
    assert inputs.dates == ["signup_date"]


def test_model_inputs_by_dtype_when_groups_are_left_to_inference() -> None:
    # given: only a drop list; numeric and categorical columns found by dtype
    frame = _customers(20, "2024-01-01").drop(columns=["signup_date"])
    # when
    inputs = model_inputs({"drop": ["customer_id"]}, frame, "churned")
    # then
    assert inputs is not None and inputs.columns == ["age", "plan"] and inputs.dates == []


def test_no_recorded_spec_or_one_that_does_not_fit_gives_none() -> None:
    frame = _customers(10, "2024-01-01")
    assert model_inputs(None, frame, "churned") is None
    assert model_inputs({"drop": ["not_there"]}, frame, "churned") is None


def test_a_date_column_drifts_as_a_date_not_as_categories() -> None:
    # given: training signups in 2024, today's input a year later (same other columns)
    train = _customers(200, "2024-01-01")
    today = _customers(200, "2025-01-01", seed=1)
    # when
    result = compare(train, today, ["age", "signup_date"], dates=["signup_date"])
    # then: binned on timestamps (date labels, a KS value), and the shift is flagged
    row = result.table.set_index("feature").loc["signup_date"]
    assert row["kind"] == "date"
    labels = result.histograms["signup_date"][0]
    assert labels[0].startswith("< 2024-") and len(labels) <= 12
    assert row["ks"] == pytest.approx(1.0)
    assert bool(row["flagged"])
    # and: the same dates, split into chunks, do not drift
    same = DriftAccumulator(build_reference(train, ["signup_date"], dates=["signup_date"]))
    for chunk in (train.iloc[:70], train.iloc[70:]):
        same.update(chunk)
    assert same.result().table.loc[0, "psi"] == pytest.approx(0.0, abs=1e-9)


def test_a_datetime_dtype_is_a_date_without_being_named() -> None:
    # given
    train = pd.DataFrame({"at": pd.date_range("2024-01-01", periods=30, freq="h", tz="UTC")})
    # when
    reference = build_reference(train, ["at"])
    # then
    assert reference.features[0].kind == "date"
    assert reference.features[0].counts[-1] == 0  # nothing missing
