"""libs.scoring: the input check against a model signature, and stamped predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from libs.errors import InputError
from libs.scoring import (
    ColumnSpec,
    SignatureError,
    conform_to_signature,
    csv_dtypes,
    predictions_frame,
    stamp_predictions,
)

SIGNATURE = [
    ColumnSpec("age", "double"),
    ColumnSpec("calls", "long"),
    ColumnSpec("plan", "string"),
    ColumnSpec("note", "string", required=False),
]


def test_matching_input_passes_with_lossless_casts() -> None:
    # given: whole-number ages (int64), integral float calls, an all-empty plan column
    frame = pd.DataFrame({"age": [30, 41], "calls": [1.0, 2.0], "plan": [np.nan, np.nan]})
    # when
    out = conform_to_signature(frame, SIGNATURE)
    # then
    assert out["age"].dtype == "float64"
    assert out["calls"].dtype == "int64"
    assert out["plan"].dtype == object


def test_missing_and_mistyped_columns_are_listed_in_one_line() -> None:
    # given
    frame = pd.DataFrame({"age": ["old", "young"], "calls": [1.5, np.nan]})
    # when
    with pytest.raises(SignatureError) as caught:
        conform_to_signature(frame, SIGNATURE, "in.csv")
    # then
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("in.csv: does not match the model's signature: ")
    assert "missing columns: plan;" in message
    assert "mistyped columns: age (expected double, found " in message
    assert "calls (expected long, found float64 with missing values)" in message
    assert "note" not in message  # optional


def test_fractional_floats_do_not_fit_an_integer_input() -> None:
    frame = pd.DataFrame({"age": [1.0], "calls": [1.5], "plan": ["a"]})
    with pytest.raises(SignatureError, match=r"calls \(expected long, found float64\)"):
        conform_to_signature(frame, SIGNATURE)


def test_csv_dtypes_pin_only_text_inputs() -> None:
    assert csv_dtypes(SIGNATURE) == {"plan": "str", "note": "str"}


@pytest.mark.parametrize(
    ("predictions", "columns"),
    [
        (np.array([1, 0, 1]), ["prediction"]),
        (np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]]), ["prediction_0", "prediction_1"]),
        (pd.Series([1, 2, 3]), ["prediction"]),
        (pd.DataFrame({"p": [1, 2, 3]}), ["prediction"]),
        ({"a": np.zeros(3), "b": np.ones(3)}, ["prediction_a", "prediction_b"]),
    ],
)
def test_any_pyfunc_output_becomes_named_columns(predictions: object, columns: list[str]) -> None:
    assert list(predictions_frame(predictions, 3).columns) == columns


def test_prediction_count_must_match_rows() -> None:
    with pytest.raises(ValueError, match="2 predictions for 3 rows"):
        predictions_frame(np.array([1, 2]), 3)


def test_stamp_keeps_rows_and_records_the_model() -> None:
    # given: a chunk with a non-zero index, as a later chunk has
    rows = pd.DataFrame({"id": [7, 8]}, index=[100, 101])
    # when
    out = stamp_predictions(rows, np.array([0.5, 0.25]), {"model_name": "m", "model_version": "3"})
    # then
    assert out.to_dict("list") == {
        "id": [7, 8],
        "prediction": [0.5, 0.25],
        "model_name": ["m", "m"],
        "model_version": ["3", "3"],
    }


def test_input_columns_the_output_reserves_are_refused() -> None:
    rows = pd.DataFrame({"prediction": [1], "model_name": ["x"]})
    with pytest.raises(InputError, match="prediction, model_name"):
        stamp_predictions(rows, np.array([1]), {"model_name": "m"})
