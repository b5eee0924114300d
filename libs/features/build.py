"""Build the unfitted scikit-learn ColumnTransformer a feature spec describes.

The transformer is fitted on the training split only (by the caller), then
travels inside the model pipeline, so serving applies exactly the same
preprocessing as training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

from libs.features.columns import ResolvedColumns, resolve_columns
from libs.features.custom import build_custom_step
from libs.features.errors import FeatureSpecError
from libs.features.spec import CategoricalSpec, DatetimeSpec, FeatureSpec, NumericSpec
from libs.features.transformers import DatetimeParts, as_text, clip_values, log1p_values

_SCALERS: dict[str, type[TransformerMixin]] = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
}


def numeric_pipeline(spec: NumericSpec) -> Pipeline:
    """Impute, clip, log1p, scale: clipping first keeps log1p away from its domain edge."""
    # keep_empty_features: an all-missing training column stays a column, so the
    # output width (and the feature names) never depend on the training sample.
    steps: list[tuple[str, object]] = [
        (
            "impute",
            SimpleImputer(
                strategy=spec.impute, fill_value=spec.fill_value, keep_empty_features=True
            ),
        )
    ]
    if spec.clip is not None:
        low, high = spec.clip
        steps.append(
            (
                "clip",
                FunctionTransformer(
                    clip_values,
                    kw_args={"low": low, "high": high},
                    feature_names_out="one-to-one",
                ),
            )
        )
    if spec.log1p:
        steps.append(("log1p", FunctionTransformer(log1p_values, feature_names_out="one-to-one")))
    if spec.scale != "none":
        steps.append(("scale", _SCALERS[spec.scale]()))
    return Pipeline(steps)


def categorical_pipeline(spec: CategoricalSpec) -> Pipeline:
    """Text labels, impute, encode; unseen categories at predict time never raise."""
    encoder: TransformerMixin
    if spec.encoding == "onehot":
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    return Pipeline(
        [
            ("as_text", FunctionTransformer(as_text, feature_names_out="one-to-one")),
            (
                "impute",
                SimpleImputer(
                    strategy=spec.impute,
                    fill_value=spec.fill_value,
                    missing_values=np.nan,
                    keep_empty_features=True,
                ),
            ),
            ("encode", encoder),
        ]
    )


def datetime_pipeline(spec: DatetimeSpec) -> Pipeline:
    """Calendar parts, then fill missing stamps with the most frequent value."""
    return Pipeline(
        [
            ("parts", DatetimeParts(parts=tuple(spec.parts))),
            ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
        ]
    )


def _check_log1p_domain(spec: NumericSpec, columns: list[str], X: pd.DataFrame) -> None:
    if not spec.log1p:
        return
    low_clip = spec.clip[0] if spec.clip is not None else None
    for column in columns:
        lowest = pd.to_numeric(X[column], errors="coerce").min()
        if low_clip is not None:
            lowest = max(lowest, low_clip)
        if pd.notna(lowest) and lowest <= -1:
            raise FeatureSpecError(
                f"feature spec: column {column!r} has values <= -1 ({lowest}), where log1p "
                "is undefined; set numeric.clip to a lower bound above -1 or turn log1p off"
            )


def build_preprocessor(spec: FeatureSpec, X: pd.DataFrame) -> ColumnTransformer:
    """An unfitted ColumnTransformer for `X` as the spec describes it.

    `X` is only read to resolve and check columns; nothing is fitted here.
    """
    resolved: ResolvedColumns = resolve_columns(spec, X)
    _check_log1p_domain(spec.numeric, resolved.numeric, X)
    transformers: list[tuple[str, Pipeline, list[str]]] = []
    if resolved.numeric:
        transformers.append(("numeric", numeric_pipeline(spec.numeric), resolved.numeric))
    if resolved.categorical:
        transformers.append(
            ("categorical", categorical_pipeline(spec.categorical), resolved.categorical)
        )
    if resolved.datetime:
        transformers.append(("datetime", datetime_pipeline(spec.datetime), resolved.datetime))
    for index, step in enumerate(spec.custom):
        missing = [c for c in step.columns if c not in X.columns]
        if missing:
            raise FeatureSpecError(
                f"feature spec: custom.{index}.columns: no column {missing[0]!r} in the data"
            )
        transformers.append(
            (f"custom_{index}", build_custom_step(step, f"features.custom.{index}"), step.columns)
        )
    if not transformers:
        raise FeatureSpecError(
            "feature spec: no column selected (numeric, categorical and datetime are all "
            f"empty); dropped: {', '.join(map(str, resolved.dropped)) or '(none)'}"
        )
    # sparse_threshold=0: always a dense array, which every model adapter accepts.
    return ColumnTransformer(
        transformers,
        remainder="drop",
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )


__all__ = ["build_preprocessor", "categorical_pipeline", "datetime_pipeline", "numeric_pipeline"]
