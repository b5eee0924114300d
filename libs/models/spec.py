"""Model specs: what to train, validated once at the edge.

`framework` is the discriminator that picks a spec class here and an adapter
in `create_model`. A config without `framework` is a scikit-learn one, so
every config written before TensorFlow joined keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

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


IMPORT_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
"""`package.module.Name`: a module importable from the current directory, the
Python path or an installed package, then an attribute of it."""


class EarlyStoppingSpec(BaseModel):
    """Stop boosting when a validation slice of the training split stops improving.

    The slice is drawn from the training rows only (seeded, stratified for
    classification), so the test rows stay unseen until evaluation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    validation_fraction: float = Field(
        0.1, gt=0.0, lt=0.5, description="Fraction of the training rows held out to stop on."
    )
    rounds: int = Field(
        10, ge=1, description="Stop after this many rounds without a better validation score."
    )


class SklearnModelSpec(BaseModel):
    """A scikit-learn estimator chosen by name, or any estimator with the scikit-learn
    API by import path (`class`), with its constructor parameters.

    `class` wins over `name`: `--set model.class=lightgbm.LGBMClassifier` on a
    config that names a built-in estimator replaces it (its params stay, and are
    checked against the new class).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    framework: Literal["sklearn"] = "sklearn"
    name: SklearnModelName | None = "logistic_regression"
    estimator_class: str | None = Field(
        None,
        alias="class",
        pattern=IMPORT_PATH,
        description="Import path of an estimator class with the scikit-learn API "
        "(e.g. xgboost.XGBClassifier, mypkg.models.MyRegressor); replaces `name`.",
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Constructor parameters of the estimator (e.g. C, max_iter).",
    )
    early_stopping: EarlyStoppingSpec | None = Field(
        None,
        description="Early stopping on a validation slice of the training split "
        "(estimators whose fit takes an eval_set: XGBoost, LightGBM).",
    )

    @model_validator(mode="before")
    @classmethod
    def _class_replaces_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("class", data.get("estimator_class")):
            return {**data, "name": None}
        return data

    @model_validator(mode="after")
    def _name_or_class(self) -> SklearnModelSpec:
        if self.name is None and self.estimator_class is None:
            raise ValueError("give a built-in estimator `name` or an import path in `class`")
        return self

    @property
    def label(self) -> str:
        """Short model name used in the default registered-model name."""
        if self.estimator_class:
            return self.estimator_class.rsplit(".", 1)[-1].lower()
        return str(self.name)


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
    builder: str | None = Field(
        None,
        pattern=IMPORT_PATH,
        description="Import path of your own builder, called as builder(input_shape, task, "
        "params) and returning a Keras model (its body: the output layer is added for the "
        "task); replaces `architecture`, `units`, `activation`, `dropout`, `batch_norm`.",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Keyword parameters passed to your `builder`."
    )
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

    @field_validator("params")
    @classmethod
    def _params_go_to_a_builder(cls, value: dict[str, Any], info: ValidationInfo) -> Any:
        if value and not info.data.get("builder"):
            raise ValueError(
                "unknown key (params go to your model.builder; the built-in architectures "
                "take units, activation, dropout, ... as fields)"
            )
        return value

    @model_validator(mode="after")
    def _early_stopping_needs_validation(self) -> TensorflowModelSpec:
        if self.early_stopping_patience is not None and self.validation_split == 0.0:
            raise ValueError("early_stopping_patience needs validation_split > 0")
        return self

    @property
    def name(self) -> str:
        """Short model name used in the default registered-model name."""
        if self.builder:
            return f"keras-{self.builder.rsplit('.', 1)[-1]}".replace("_", "-")
        return f"keras-{self.architecture}"

    @property
    def label(self) -> str:
        """Short model name used in the default registered-model name."""
        return self.name


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

__all__ = [
    "IMPORT_PATH",
    "EarlyStoppingSpec",
    "ModelSpec",
    "SklearnModelName",
    "SklearnModelSpec",
    "TensorflowModelSpec",
]
