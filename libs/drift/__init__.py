"""Input drift: PSI and two-sample KS per feature against the training data.

Pure and streaming: `build_reference` buckets the training table once, a
`DriftAccumulator` counts the scored input into those buckets chunk by chunk,
and `result()` gives one row per feature with its statistics and a flag.
"""

from libs.drift.inputs import ModelInputs, model_inputs
from libs.drift.profile import (
    MISSING,
    OTHER,
    TABLE_COLUMNS,
    DriftAccumulator,
    DriftReference,
    DriftResult,
    FeatureReference,
    build_reference,
    compare,
)
from libs.drift.spec import DriftSpec
from libs.drift.stats import EPSILON, ks_statistic, population_stability_index

__all__ = [
    "EPSILON",
    "MISSING",
    "OTHER",
    "TABLE_COLUMNS",
    "DriftAccumulator",
    "DriftReference",
    "DriftResult",
    "DriftSpec",
    "FeatureReference",
    "ModelInputs",
    "build_reference",
    "compare",
    "ks_statistic",
    "model_inputs",
    "population_stability_index",
]
