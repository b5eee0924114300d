"""Declarative feature spec -> scikit-learn ColumnTransformer.

A `FeatureSpec` says which columns are numeric, categorical or datetime and how
each group is imputed, scaled or encoded; `build_preprocessor` turns it into an
unfitted ColumnTransformer checked against the data it will be fitted on.
"""

from libs.features.build import build_preprocessor
from libs.features.columns import ResolvedColumns, resolve_columns
from libs.features.custom import CustomStepSpec, NamedStep, check_custom_steps
from libs.features.errors import FeatureSpecError
from libs.features.spec import CategoricalSpec, DatetimeSpec, FeatureSpec, NumericSpec
from libs.features.transformers import DatetimeParts

__all__ = [
    "CategoricalSpec",
    "CustomStepSpec",
    "DatetimeParts",
    "DatetimeSpec",
    "FeatureSpec",
    "FeatureSpecError",
    "NamedStep",
    "NumericSpec",
    "ResolvedColumns",
    "build_preprocessor",
    "check_custom_steps",
    "resolve_columns",
]
