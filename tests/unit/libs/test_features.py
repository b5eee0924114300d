"""Feature spec -> ColumnTransformer: each transformation, dtype selection, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from libs.errors import InputError
from libs.features import (
    CategoricalSpec,
    DatetimeParts,
    DatetimeSpec,
    FeatureSpec,
    FeatureSpecError,
    NumericSpec,
    build_preprocessor,
    resolve_columns,
)


def _numeric_only(**numeric: object) -> FeatureSpec:
    return FeatureSpec(
        numeric=NumericSpec(columns=["x"], **numeric),
        categorical=CategoricalSpec(columns=[]),
        datetime=DatetimeSpec(columns=[]),
    )


def _fit(spec: FeatureSpec, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    preprocessor = build_preprocessor(spec, X)
    out = preprocessor.fit_transform(X)
    return out, list(preprocessor.get_feature_names_out())


@pytest.fixture
def mixed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, np.nan, 50.0],
            "income": [1, 2, 3, 4],
            "color": ["red", "blue", None, "red"],
            "member": [True, False, True, True],
            "joined": pd.to_datetime(
                ["2024-01-15 10:00", "2023-06-01 08:00", "2022-12-31 23:00", "2024-02-29 00:00"]
            ),
            "id": [pd.Timedelta(days=i) for i in range(4)],
        }
    )


# --- numeric -------------------------------------------------------------------------------


def test_standard_scaler_centres_and_scales() -> None:
    # given
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    # when
    out, names = _fit(_numeric_only(scale="standard"), X)
    # then
    assert names == ["x"]
    assert out[:, 0].mean() == pytest.approx(0.0)
    assert out[:, 0].std() == pytest.approx(1.0)


def test_minmax_scaler_maps_to_unit_interval() -> None:
    # given
    X = pd.DataFrame({"x": [10.0, 20.0, 30.0]})
    # when
    out, _ = _fit(_numeric_only(scale="minmax"), X)
    # then
    assert out[:, 0].tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_robust_scaler_uses_median_and_iqr() -> None:
    # given: median 3, IQR 2 (quartiles 2 and 4)
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    # when
    out, _ = _fit(_numeric_only(scale="robust"), X)
    # then
    assert out[:, 0].tolist() == pytest.approx([-1.0, -0.5, 0.0, 0.5, 1.0])


def test_scale_none_passes_values_through() -> None:
    # given
    X = pd.DataFrame({"x": [3.0, 7.0]})
    # when
    out, _ = _fit(_numeric_only(scale="none"), X)
    # then
    assert out[:, 0].tolist() == [3.0, 7.0]


def test_log1p_transforms_before_scaling() -> None:
    # given
    X = pd.DataFrame({"x": [0.0, np.e - 1, np.e**2 - 1]})
    # when
    out, _ = _fit(_numeric_only(scale="none", log1p=True), X)
    # then
    assert out[:, 0].tolist() == pytest.approx([0.0, 1.0, 2.0])


def test_clip_bounds_values_at_fit_and_transform_time() -> None:
    # given
    X = pd.DataFrame({"x": [-5.0, 0.5, 9.0]})
    preprocessor = build_preprocessor(_numeric_only(scale="none", clip=(0.0, 1.0)), X)
    # when
    preprocessor.fit(X)
    out = preprocessor.transform(pd.DataFrame({"x": [100.0, -100.0]}))
    # then
    assert preprocessor.transform(X)[:, 0].tolist() == [0.0, 0.5, 1.0]
    assert out[:, 0].tolist() == [1.0, 0.0]


def test_clip_applies_before_log1p_so_negative_values_are_allowed() -> None:
    # given: -5 would be outside log1p's domain, but clip lifts it to 0
    X = pd.DataFrame({"x": [-5.0, 0.0, np.e - 1]})
    # when
    out, _ = _fit(_numeric_only(scale="none", clip=(0.0, 100.0), log1p=True), X)
    # then
    assert out[:, 0].tolist() == pytest.approx([0.0, 0.0, 1.0])


@pytest.mark.parametrize(
    ("impute", "expected"),
    [("mean", 4.0), ("median", 3.0), ("most_frequent", 1.0), ("constant", -9.0)],
)
def test_numeric_imputation_strategies(impute: str, expected: float) -> None:
    # given
    X = pd.DataFrame({"x": [1.0, 1.0, np.nan, 5.0, 9.0]})
    # when
    out, _ = _fit(_numeric_only(scale="none", impute=impute, fill_value=-9.0), X)
    # then
    assert out[2, 0] == pytest.approx(expected)
    assert not np.isnan(out).any()


def test_all_missing_numeric_column_keeps_its_place() -> None:
    # given
    X = pd.DataFrame({"x": [np.nan, np.nan]})
    # when
    out, names = _fit(_numeric_only(scale="none"), X)
    # then
    assert names == ["x"]
    assert out.shape == (2, 1)


# --- categorical ---------------------------------------------------------------------------


def _categorical_only(**categorical: object) -> FeatureSpec:
    return FeatureSpec(
        numeric=NumericSpec(columns=[]),
        categorical=CategoricalSpec(columns=["c"], **categorical),
        datetime=DatetimeSpec(columns=[]),
    )


def test_onehot_ignores_unknown_category_at_transform_time() -> None:
    # given
    X = pd.DataFrame({"c": ["a", "b", "a"]})
    preprocessor = build_preprocessor(_categorical_only(), X).fit(X)
    # when
    out = preprocessor.transform(pd.DataFrame({"c": ["b", "never-seen"]}))
    # then
    assert list(preprocessor.get_feature_names_out()) == ["c_a", "c_b"]
    assert out.tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_ordinal_encodes_unknown_category_as_minus_one() -> None:
    # given
    X = pd.DataFrame({"c": ["low", "high", "mid"]})
    preprocessor = build_preprocessor(_categorical_only(encoding="ordinal"), X).fit(X)
    # when
    out = preprocessor.transform(pd.DataFrame({"c": ["high", "low", "mid", "unknown"]}))
    # then: categories are sorted: high=0, low=1, mid=2
    assert list(preprocessor.get_feature_names_out()) == ["c"]
    assert out[:, 0].tolist() == [0.0, 1.0, 2.0, -1.0]


def test_categorical_most_frequent_imputation() -> None:
    # given
    X = pd.DataFrame({"c": ["a", "a", None, "b"]})
    # when
    out, names = _fit(_categorical_only(), X)
    # then
    assert names == ["c_a", "c_b"]
    assert out[2].tolist() == [1.0, 0.0]


def test_categorical_constant_imputation_adds_fill_category() -> None:
    # given
    X = pd.DataFrame({"c": ["a", np.nan, "b"]})
    # when
    out, names = _fit(_categorical_only(impute="constant", fill_value="unknown"), X)
    # then
    assert names == ["c_a", "c_b", "c_unknown"]
    assert out[1].tolist() == [0.0, 0.0, 1.0]


def test_bool_and_mixed_type_columns_are_encoded_as_text() -> None:
    # given
    X = pd.DataFrame({"c": pd.Series([1, "a", True], dtype=object)})
    # when
    _, names = _fit(_categorical_only(), X)
    # then
    assert names == ["c_1", "c_True", "c_a"]


# --- datetime ------------------------------------------------------------------------------


def _datetime_only(columns: list[str], parts: list[str] | None = None) -> FeatureSpec:
    datetime = (
        DatetimeSpec(columns=columns)
        if parts is None
        else DatetimeSpec(columns=columns, parts=parts)
    )
    return FeatureSpec(
        numeric=NumericSpec(columns=[]),
        categorical=CategoricalSpec(columns=[]),
        datetime=datetime,
    )


def test_datetime_default_parts() -> None:
    # given: 2024-03-15 is a Friday (dayofweek 4)
    X = pd.DataFrame({"t": pd.to_datetime(["2024-03-15 13:45"])})
    # when
    out, names = _fit(_datetime_only(["t"]), X)
    # then
    assert names == ["t_year", "t_month", "t_dayofweek", "t_hour"]
    assert out[0].tolist() == [2024.0, 3.0, 4.0, 13.0]


def test_datetime_parts_from_text_column_with_mixed_formats() -> None:
    # given
    X = pd.DataFrame({"t": ["2024-03-15", "2023-01-02 07:30", None]})
    # when
    out, names = _fit(_datetime_only(["t"], parts=["year", "day", "hour"]), X)
    # then: the missing stamp is imputed with the most frequent value of each part
    assert names == ["t_year", "t_day", "t_hour"]
    assert out[:2].tolist() == [[2024.0, 15.0, 0.0], [2023.0, 2.0, 7.0]]
    assert not np.isnan(out).any()


def test_unparseable_stamp_at_predict_time_is_imputed_not_raised() -> None:
    # given
    X = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-01", "2020-06-01"])})
    preprocessor = build_preprocessor(_datetime_only(["t"], parts=["year"]), X).fit(X)
    # when
    out = preprocessor.transform(pd.DataFrame({"t": ["not a date", "2021-05-05"]}))
    # then
    assert out[:, 0].tolist() == [2024.0, 2021.0]


def test_datetime_parts_transformer_names_and_timezones() -> None:
    # given
    X = pd.DataFrame({"t": pd.to_datetime(["2024-07-04 22:00"]).tz_localize("UTC")})
    # when
    parts = DatetimeParts(parts=("month", "hour")).fit(X)
    # then
    assert list(parts.get_feature_names_out()) == ["t_month", "t_hour"]
    assert parts.transform(X).tolist() == [[7.0, 22.0]]


# --- selection by dtype, drop -------------------------------------------------------------


def test_default_spec_selects_columns_by_dtype(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec()
    # when
    resolved = resolve_columns(spec, mixed)
    # then: timedelta fits no group and is dropped
    assert resolved.numeric == ["age", "income"]
    assert resolved.categorical == ["color", "member"]
    assert resolved.datetime == ["joined"]
    assert resolved.dropped == ["id"]


def test_explicit_lists_take_columns_out_of_dtype_selection(mixed: pd.DataFrame) -> None:
    # given: income is numeric by dtype but listed as categorical
    spec = FeatureSpec(categorical=CategoricalSpec(columns=["income"]), drop=["age"])
    # when
    resolved = resolve_columns(spec, mixed)
    # then
    assert resolved.numeric == []
    assert resolved.categorical == ["income"]
    assert resolved.dropped == ["age", "color", "member", "id"]


def test_empty_list_selects_no_column_of_that_group(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(categorical=CategoricalSpec(columns=[]))
    # when
    resolved = resolve_columns(spec, mixed)
    # then
    assert resolved.categorical == []
    assert "color" in resolved.dropped


def test_drop_removes_column_from_output(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(drop=["income", "color"])
    # when
    out, names = _fit(spec, mixed)
    # then
    assert "income" not in names
    assert not any(name.startswith("color") for name in names)
    assert names[:1] == ["age"]
    assert out.shape == (4, len(names))


def test_full_default_preprocessor_on_mixed_frame(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec()
    # when
    out, names = _fit(spec, mixed)
    # then
    assert names == [
        "age",
        "income",
        "color_blue",
        "color_red",
        "member_False",
        "member_True",
        "joined_year",
        "joined_month",
        "joined_dayofweek",
        "joined_hour",
    ]
    assert out.dtype == float
    assert not np.isnan(out).any()


def test_fitted_pipeline_pickles_and_predicts_the_same(mixed: pd.DataFrame) -> None:
    # given
    X = pd.concat([mixed] * 3, ignore_index=True)
    y = np.array([0, 1, 0, 1] * 3)
    pipeline = Pipeline(
        [
            ("features", build_preprocessor(FeatureSpec(numeric=NumericSpec(log1p=True)), X)),
            ("model", LogisticRegression()),
        ]
    ).fit(X, y)
    # when
    restored = pickle.loads(pickle.dumps(pipeline))
    # then
    assert restored.predict_proba(X).tolist() == pipeline.predict_proba(X).tolist()
    assert list(restored[0].get_feature_names_out()) == list(pipeline[0].get_feature_names_out())


# --- errors -------------------------------------------------------------------------------


def test_missing_column_names_column_group_and_available(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(numeric=NumericSpec(columns=["agee"]))
    # when / then
    with pytest.raises(FeatureSpecError) as caught:
        build_preprocessor(spec, mixed)
    message = str(caught.value)
    assert message.startswith("features.numeric.columns: column 'agee' not found in data")
    assert "available: age, income, color" in message
    assert "\n" not in message


def test_missing_dropped_column_is_reported(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(drop=["nope"])
    # when / then
    with pytest.raises(FeatureSpecError, match=r"^features\.drop: column 'nope' not found in data"):
        resolve_columns(spec, mixed)


def test_non_numeric_column_listed_as_numeric(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(numeric=NumericSpec(columns=["color"]))
    # when / then
    with pytest.raises(FeatureSpecError, match=r"'color' is listed as numeric but has dtype"):
        build_preprocessor(spec, mixed)


def test_unparseable_datetime_column(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(datetime=DatetimeSpec(columns=["color"]))
    # when / then
    with pytest.raises(FeatureSpecError, match=r"'color' is listed as datetime .* do not parse"):
        build_preprocessor(spec, mixed)


def test_numeric_column_is_not_taken_for_datetime(mixed: pd.DataFrame) -> None:
    # given: integers would "parse" as nanoseconds since 1970, which is never meant
    spec = FeatureSpec(datetime=DatetimeSpec(columns=["income"]))
    # when / then
    with pytest.raises(FeatureSpecError, match=r"'income' is listed as datetime"):
        build_preprocessor(spec, mixed)


def test_column_listed_in_two_groups(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(
        numeric=NumericSpec(columns=["age"]), categorical=CategoricalSpec(columns=["age"])
    )
    # when / then
    with pytest.raises(
        FeatureSpecError,
        match=r"features\.categorical\.columns: column 'age' is listed in features\.numeric",
    ):
        build_preprocessor(spec, mixed)


def test_column_listed_and_dropped(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(numeric=NumericSpec(columns=["age"]), drop=["age"])
    # when / then
    with pytest.raises(
        FeatureSpecError,
        match=r"features\.numeric\.columns: column 'age' is listed in features\.drop too",
    ):
        build_preprocessor(spec, mixed)


def test_column_listed_twice_in_one_group(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(numeric=NumericSpec(columns=["age", "age"]))
    # when / then
    with pytest.raises(
        FeatureSpecError, match=r"features\.numeric\.columns: column 'age' is listed twice"
    ):
        build_preprocessor(spec, mixed)


def test_spec_selecting_nothing_is_an_error(mixed: pd.DataFrame) -> None:
    # given
    spec = FeatureSpec(
        numeric=NumericSpec(columns=[]),
        categorical=CategoricalSpec(columns=[]),
        datetime=DatetimeSpec(columns=[]),
    )
    # when / then
    with pytest.raises(FeatureSpecError, match="no column selected"):
        build_preprocessor(spec, mixed)


def test_log1p_on_values_at_or_below_minus_one(mixed: pd.DataFrame) -> None:
    # given
    X = pd.DataFrame({"x": [-3.0, 1.0]})
    # when / then
    with pytest.raises(FeatureSpecError, match=r"'x' has values <= -1"):
        build_preprocessor(_numeric_only(log1p=True), X)


def test_feature_spec_error_is_an_input_error() -> None:
    # given / when / then: the CLI maps InputError to exit code 2
    assert issubclass(FeatureSpecError, InputError)


@pytest.mark.parametrize("clip", [(1.0, 1.0), (2.0, 1.0), (float("nan"), 1.0)])
def test_clip_low_must_be_below_high(clip: tuple[float, float]) -> None:
    # given / when / then
    with pytest.raises(ValidationError, match=r"numeric\.clip low"):
        NumericSpec(clip=clip)


@pytest.mark.parametrize(
    "config",
    [
        {"numeric": {"scale": "standrad"}},
        {"numeric": {"colums": ["a"]}},
        {"categorical": {"encoding": "target"}},
        {"datetime": {"parts": ["week"]}},
        {"datetime": {"parts": []}},
        {"extra": 1},
    ],
)
def test_invalid_spec_is_rejected_at_validation(config: dict[str, object]) -> None:
    # given / when / then
    with pytest.raises(ValidationError):
        FeatureSpec.model_validate(config)


def test_spec_is_frozen_and_loads_from_plain_data() -> None:
    # given
    spec = FeatureSpec.model_validate(
        {"numeric": {"columns": ["a"], "clip": [0, 1]}, "drop": ["b"]}
    )
    # when / then
    assert spec.numeric.clip == (0.0, 1.0)
    with pytest.raises(ValidationError):
        spec.drop = []  # type: ignore[misc]
