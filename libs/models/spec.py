"""Model specs: what to train, validated once at the edge.

`framework` is the discriminator that picks a spec class here and an adapter
in `create_model`. A config without `framework` is a scikit-learn one, so
every config written before TensorFlow joined keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

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


EpochHook = Callable[[int, dict[str, float]], None]
"""Called after each epoch with its 0-based number and its logs (loss, acc, val_*)."""


class SklearnModelSpec(BaseModel):
    """A scikit-learn estimator chosen by name, with its constructor parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: Literal["sklearn"] = "sklearn"
    name: SklearnModelName = "logistic_regression"
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Constructor parameters of the estimator (e.g. C, max_iter).",
    )


class TensorflowModelSpec(BaseModel):
    """A Keras 3 network: an MLP for tabular rows or a small CNN for image arrays.

    The CNN reads each row of preprocessed features as an image of
    `image_shape` (default: a square single-channel image, e.g. digits' 64
    pixels as 8x8x1). The seed is the split's seed (`split.seed`), so one
    number reproduces the whole run.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: Literal["tensorflow"] = "tensorflow"
    architecture: Literal["mlp", "cnn"] = "mlp"
    units: list[Annotated[int, Field(ge=1)]] = Field(
        default=[64, 32],
        min_length=1,
        description="Units of each hidden dense layer (MLP), or of the dense head (CNN).",
    )
    activation: Literal["relu", "elu", "gelu", "selu", "tanh", "sigmoid", "swish"] = "relu"
    dropout: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="Dropout after each hidden layer."
    )
    batch_norm: bool = Field(
        default=False, description="Batch normalisation after each hidden layer."
    )
    filters: list[Annotated[int, Field(ge=1)]] = Field(
        default=[16, 32], min_length=1, description="CNN only: filters of each conv block."
    )
    kernel_size: int = Field(
        default=3, ge=1, description="CNN only: square convolution kernel size."
    )
    image_shape: tuple[int, int, int] | None = Field(
        default=None,
        description="CNN only: (height, width, channels) of one row; default square, 1 channel.",
    )
    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    learning_rate: float = Field(default=1e-3, gt=0.0, le=10.0)
    batch_size: int = Field(default=32, ge=1)
    epochs: int = Field(default=20, ge=1, le=10_000)
    early_stopping_patience: int | None = Field(
        default=None,
        ge=1,
        description="Stop after this many epochs without a better val_loss (best weights kept);"
        " needs validation_split > 0. None trains every epoch.",
    )
    validation_split: float = Field(
        default=0.1, ge=0.0, lt=1.0, description="Fraction of the training rows held out per epoch."
    )

    @model_validator(mode="after")
    def _early_stopping_needs_validation(self) -> TensorflowModelSpec:
        if self.early_stopping_patience is not None and self.validation_split == 0.0:
            raise ValueError("early_stopping_patience needs validation_split > 0")
        return self

    @property
    def name(self) -> str:
        """Short model name used in the default registered-model name."""
        return f"keras-{self.architecture}"


def _framework_of(value: Any) -> str:
    """The discriminator's value; a spec without `framework` is a scikit-learn one."""
    if isinstance(value, dict):
        return str(value.get("framework", "sklearn"))
    return str(getattr(value, "framework", "sklearn"))


ModelSpec = Annotated[
    Annotated[SklearnModelSpec, Tag("sklearn")] | Annotated[TensorflowModelSpec, Tag("tensorflow")],
    Discriminator(
        _framework_of,
        custom_error_type="framework",
        custom_error_message="unknown framework: use 'sklearn' or 'tensorflow'",
    ),
    # A callable discriminator (needed for the sklearn default) leaves no trace in the
    # JSON schema; name the field so schema readers (the docs) can label the variants.
    Field(json_schema_extra={"discriminator": {"propertyName": "framework"}}),
]

__all__ = ["ModelSpec", "SklearnModelName", "SklearnModelSpec", "TensorflowModelSpec"]
