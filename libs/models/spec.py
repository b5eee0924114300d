"""Model specs: what to train, validated once at the edge.

`framework` is the discriminator that picks an adapter in `create_model`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SklearnModelName = Literal[
    "logistic_regression",
    "random_forest",
    "gradient_boosting",
    "hist_gradient_boosting",
    "svm",
    "knn",
    "ridge",
    "linear_regression",
]


class SklearnModelSpec(BaseModel):
    """A scikit-learn estimator chosen by name, with its constructor parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: Literal["sklearn"] = "sklearn"
    name: SklearnModelName = "logistic_regression"
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Constructor parameters of the estimator (e.g. C, max_iter).",
    )


# One framework today; the TensorFlow spec joins this union with
# Field(discriminator="framework") when its flow lands.
ModelSpec = SklearnModelSpec

__all__ = ["ModelSpec", "SklearnModelName", "SklearnModelSpec"]
