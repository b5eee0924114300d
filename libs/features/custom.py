"""Your own feature step: a transformer class by import path, on the columns you name.

`features.custom: [{class: mypkg.features.Ratio, columns: [a, b], params: {...}}]`
adds the step's output beside the built-in groups (the columns stay available
to them too). The class needs `fit` and `transform`; its output is read as a
numeric matrix, and its columns are named by its own `get_feature_names_out`
when it has one, else `<class>_0`, `<class>_1`, ...
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sklearn.base import BaseEstimator, TransformerMixin, clone

from libs.errors import InputError
from libs.models.imports import import_class
from libs.models.spec import IMPORT_PATH


class CustomStepSpec(BaseModel):
    """One transformer of your own, applied to `columns` of the raw rows."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    transformer_class: str = Field(
        alias="class",
        pattern=IMPORT_PATH,
        description="Import path of a transformer class (fit/transform), e.g. mypkg.feats.Ratio.",
    )
    columns: list[str] = Field(min_length=1, description="Raw columns the step reads.")
    params: dict[str, Any] = Field(default_factory=dict, description="Constructor parameters.")


def build_custom_step(spec: CustomStepSpec, field: str) -> Any:
    """The unfitted step, its params checked against the class; InputError naming `field`."""
    path = spec.transformer_class
    cls = import_class(path, f"{field}.class", ("fit", "transform"))
    if spec.params and hasattr(cls, "get_params"):
        try:
            known = set(cls().get_params(deep=False))
        except Exception:  # a constructor without defaults: the call below says why
            known = set(spec.params)
        unknown = sorted(set(spec.params) - known)
        if unknown:
            raise InputError(
                f"{field}.params.{unknown[0]}: not a parameter of {path} "
                f"(known: {', '.join(sorted(known)) or 'none'})"
            )
    try:
        step = cls(**spec.params)
    except Exception as exc:
        raise InputError(f"{field}: {path}({spec.params}): {type(exc).__name__}: {exc}") from None
    return NamedStep(step, cls.__name__.lower())


class NamedStep(TransformerMixin, BaseEstimator):
    """Your transformer, with a numeric 2-D output and output column names."""

    def __init__(self, step: Any, prefix: str) -> None:
        self.step = step
        self.prefix = prefix

    def fit(self, X: Any, y: Any = None) -> NamedStep:
        self.step_ = clone(self.step) if hasattr(self.step, "get_params") else self.step
        self.step_.fit(X, y)
        self.n_outputs_ = self._matrix(self.step_.transform(X)).shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        return self._matrix(self.step_.transform(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = getattr(self.step_, "get_feature_names_out", None)
        if callable(names):
            try:
                own = [str(n) for n in names()]
                if len(own) == self.n_outputs_:
                    return np.asarray(own, dtype=object)
            except Exception:  # a get_feature_names_out that needs arguments
                pass
        return np.asarray([f"{self.prefix}_{i}" for i in range(self.n_outputs_)], dtype=object)

    def _matrix(self, values: Any) -> np.ndarray:
        matrix = np.asarray(values, dtype=float)
        return matrix.reshape(-1, 1) if matrix.ndim == 1 else matrix


def check_custom_steps(steps: list[CustomStepSpec], field: str = "features.custom") -> None:
    """Import and build each step (no fitting): bad paths or params fail before any work."""
    for index, step in enumerate(steps):
        build_custom_step(step, f"{field}.{index}")


__all__ = ["CustomStepSpec", "NamedStep", "build_custom_step", "check_custom_steps"]
