"""libs.io.check_table: the schema check at the point where data enters."""

from __future__ import annotations

import pandas as pd
import pytest

from libs.errors import InputError
from libs.io import SchemaCheckError, check_table


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [31, 45, None],
            "city": ["Oslo", "Lima", "Oslo"],
            "joined": ["2021-01-05", "2022-03-01", None],
            "churn": [0, 1, 0],
        }
    )


def test_valid_table_passes(frame: pd.DataFrame) -> None:
    # when / then: no exception
    check_table(
        frame,
        target="churn",
        numeric=["age"],
        categorical=["city"],
        datetime=["joined"],
        source="data.csv",
    )


def test_datetime_dtype_passes(frame: pd.DataFrame) -> None:
    # given
    frame["joined"] = pd.to_datetime(frame["joined"])
    # when / then
    check_table(frame, target="churn", datetime=["joined"])


def test_no_target_is_allowed_for_unlabelled_data(frame: pd.DataFrame) -> None:
    # given: batch scoring data has no target column
    scoring = frame.drop(columns="churn")
    # when / then
    check_table(scoring, target=None, numeric=["age"])


def test_missing_target_names_source_column_and_check(frame: pd.DataFrame) -> None:
    # when / then
    with pytest.raises(SchemaCheckError) as caught:
        check_table(frame, target="label", source="data.csv")
    assert str(caught.value) == (
        "data.csv: column 'label' failed check 'exists' (target column not in the table)"
    )
    assert isinstance(caught.value, InputError)


@pytest.mark.parametrize("role", ["numeric", "categorical", "datetime"])
def test_missing_declared_column_names_its_role(frame: pd.DataFrame, role: str) -> None:
    # when / then
    with pytest.raises(SchemaCheckError, match=f"column 'ghost' failed check 'exists' \\({role}"):
        check_table(frame, target="churn", **{role: ["ghost"]})  # type: ignore[arg-type]


def test_text_column_declared_numeric_fails_with_its_dtype(frame: pd.DataFrame) -> None:
    # given
    frame["age"] = ["31", "x", "45"]
    # when / then
    with pytest.raises(SchemaCheckError) as caught:
        check_table(frame, target="churn", numeric=["age"], source="data.csv")
    message = str(caught.value)
    assert message.startswith("data.csv: column 'age' failed check 'is numeric' (found dtype ")
    assert str(frame["age"].dtype) in message


def test_boolean_and_integer_columns_count_as_numeric() -> None:
    # given
    df = pd.DataFrame({"flag": [True, False], "n": [1, 2], "y": [0, 1]})
    # when / then
    check_table(df, target="y", numeric=["flag", "n"])


def test_entirely_null_column_fails_even_if_not_declared(frame: pd.DataFrame) -> None:
    # given
    frame["empty"] = [None, None, None]
    # when / then
    with pytest.raises(
        SchemaCheckError,
        match=r"^data: column 'empty' failed check 'not entirely null' \(every value is null\)$",
    ):
        check_table(frame, target="churn")


def test_unparseable_datetime_fails(frame: pd.DataFrame) -> None:
    # given
    frame["joined"] = ["2021-01-05", "not a date", None]
    # when / then
    with pytest.raises(
        SchemaCheckError, match="column 'joined' failed check 'is datetime or parseable"
    ):
        check_table(frame, target="churn", datetime=["joined"])


def test_numbers_are_not_taken_for_datetimes(frame: pd.DataFrame) -> None:
    # given: epoch-like integers would silently parse as nanoseconds since 1970
    frame["joined"] = [1, 2, 3]
    # when / then
    with pytest.raises(SchemaCheckError, match="'joined' failed check 'is datetime"):
        check_table(frame, target="churn", datetime=["joined"])


def test_several_failures_are_joined_in_one_line(frame: pd.DataFrame) -> None:
    # given
    frame["age"] = ["a", "b", "c"]
    frame["empty"] = [None, None, None]
    # when / then
    with pytest.raises(SchemaCheckError) as caught:
        check_table(frame, target="label", numeric=["age"], source="s3://b/d.parquet")
    message = str(caught.value)
    assert message.startswith("s3://b/d.parquet: ")
    assert "column 'label' failed check 'exists'" in message
    assert "column 'age' failed check 'is numeric'" in message
    assert "column 'empty' failed check 'not entirely null'" in message
    assert "\n" not in message


def test_long_failure_lists_are_cut_short() -> None:
    # given
    df = pd.DataFrame({name: [None, None] for name in "abcde"} | {"y": [0, 1]})
    # when / then
    with pytest.raises(SchemaCheckError, match=r"\(and 2 more\)$"):
        check_table(df, target="y")


def test_empty_table_fails() -> None:
    # given
    df = pd.DataFrame({"x": [], "y": []})
    # when / then
    with pytest.raises(SchemaCheckError, match=r"^train\.csv: table is empty$"):
        check_table(df, target="y", source="train.csv")


def test_non_frame_is_a_type_error() -> None:
    # when / then
    with pytest.raises(TypeError, match="DataFrame"):
        check_table([1, 2], target=None)  # type: ignore[arg-type]
