"""Estimators by import path (`model.class`): any class with the scikit-learn API.

XGBoost, LightGBM, CatBoost or your own class: its parameters are checked
against its own `get_params()`, its task (classifier or regressor) against
the data's, and the seed reaches it as `random_state` or `seed`, all before
any data is read.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from libs.errors import InputError
from libs.models.imports import import_class
from libs.models.spec import EarlyStoppingSpec, SklearnModelSpec

SEED_PARAMS = ("random_state", "seed")

# Quiet defaults for chatty libraries, by top-level module (a config value wins).
_CLASS_DEFAULTS: dict[str, dict[str, Any]] = {"lightgbm": {"verbose": -1}}


def estimator_task(estimator: Any) -> str | None:
    """'classification' or 'regression' as the estimator declares it (scikit-learn's
    tags, then `_estimator_type`, then the class name); None when it does not say."""
    kind: Any = None
    try:
        from sklearn.utils import get_tags

        kind = get_tags(estimator).estimator_type
    except Exception:  # a class without scikit-learn tags
        kind = None
    kind = kind or getattr(estimator, "_estimator_type", None)
    if kind == "classifier":
        return "classification"
    if kind == "regressor":
        return "regression"
    name = type(estimator).__name__
    if "Classifier" in name:
        return "classification"
    if "Regressor" in name or "Regression" in name:
        return "regression"
    return None


def _blank(path: str) -> Any:
    cls = import_class(path, "model.class", ("fit", "predict", "get_params"))
    try:
        return cls()
    except Exception as exc:
        raise InputError(
            f"model.class: '{path}' cannot be built without arguments "
            f"({type(exc).__name__}: {exc}); give defaults to its constructor"
        ) from None


def build_class_estimator(spec: SklearnModelSpec, task: str, seed: int) -> Any:
    """Instantiate `spec.estimator_class` with checked params, seeded; InputError else."""
    path = str(spec.estimator_class)
    blank = _blank(path)
    kind = estimator_task(blank)
    if kind is not None and kind != task:
        role = "classifier" if kind == "classification" else "regressor"
        raise InputError(f"model.class: '{path}' is a {role}; this is a {task} task")
    known = blank.get_params(deep=False)
    unknown = sorted(set(spec.params) - set(known))
    if unknown:
        raise InputError(
            f"model.params.{unknown[0]}: not a parameter of {path} "
            f"(known: {', '.join(sorted(known))})"
        )
    top = type(blank).__module__.split(".")[0]
    params = {k: v for k, v in _CLASS_DEFAULTS.get(top, {}).items() if k in known}
    params.update(spec.params)
    for name in SEED_PARAMS:  # seed every estimator that takes one, unless set explicitly
        if name in known and name not in spec.params:
            params[name] = seed
    if spec.early_stopping is not None:
        params.update(_early_stopping_params(path, top, known, spec.early_stopping))
    try:
        estimator = type(blank)(**params)
        if hasattr(estimator, "_parameter_constraints"):
            estimator._validate_params()  # scikit-learn's own check, before any fit
    except Exception as exc:
        named = re.match(r"The '(\w+)' parameter", str(exc))
        where = f"model.params.{named.group(1)}" if named else "model.params"
        raise InputError(f"{where}: {path}: {type(exc).__name__}: {exc}") from None
    return estimator


def _early_stopping_params(
    path: str, top: str, known: dict[str, Any], spec: EarlyStoppingSpec
) -> dict[str, Any]:
    """Constructor parameters that turn early stopping on (XGBoost takes the rounds
    there; LightGBM takes a callback at fit); refused for estimators that take neither."""
    if "early_stopping_rounds" in known:
        return {"early_stopping_rounds": spec.rounds}
    if top == "lightgbm":
        return {}
    raise InputError(
        f"model.early_stopping: {path} takes no validation set in fit (XGBoost and LightGBM "
        "do); use the estimator's own parameters for it, if it has any"
    )


def fit_with_early_stopping(
    estimator: Any, features: Any, y: np.ndarray, spec: EarlyStoppingSpec, task: str, seed: int
) -> Any:
    """Fit on the training rows less a seeded validation slice, stopping on that slice."""
    stratify = y if task == "classification" and _stratifiable(y, spec) else None
    x_fit, x_val, y_fit, y_val = train_test_split(
        features, y, test_size=spec.validation_fraction, random_state=seed, stratify=stratify
    )
    target = estimator.estimator if isinstance(estimator, EncodedLabels) else estimator
    y_eval = _encoded(estimator, y_val)
    kwargs: dict[str, Any] = {"eval_set": [(x_val, y_eval)]}
    if type(target).__module__.split(".")[0] == "lightgbm":
        import inspect

        import lightgbm

        if "eval_X" in inspect.signature(type(target).fit).parameters:  # LightGBM >= 4.7
            kwargs = {"eval_X": (x_val,), "eval_y": (y_eval,)}
        kwargs["callbacks"] = [lightgbm.early_stopping(spec.rounds, verbose=False)]
    else:
        kwargs["verbose"] = False
    return estimator.fit(x_fit, y_fit, **kwargs)


def _stratifiable(y: np.ndarray, spec: EarlyStoppingSpec) -> bool:
    _, counts = np.unique(y, return_counts=True)
    return bool(counts.min() >= 2 and len(counts) <= len(y) * spec.validation_fraction)


def _encoded(estimator: Any, y: np.ndarray) -> np.ndarray:
    if isinstance(estimator, EncodedLabels):
        return np.asarray(estimator.encoder_.transform(y))
    return y


def best_iteration(estimator: Any) -> int | None:
    """The boosting round early stopping kept (XGBoost, LightGBM), if any."""
    inner = estimator.estimator if isinstance(estimator, EncodedLabels) else estimator
    for name in ("best_iteration_", "best_iteration"):
        try:
            value = getattr(inner, name, None)
        except Exception:  # XGBoost raises when no early stopping ran
            value = None
        if isinstance(value, int | np.integer) and value >= 0:
            return int(value)
    return None


class EncodedLabels(ClassifierMixin, BaseEstimator):
    """A classifier that sees labels 0..n-1 (XGBoost's rule) and answers in the data's own.

    Used only where the labels are not already 0..n-1, so a model trained on
    bundled datasets stays the plain estimator.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, **fit_params: Any) -> EncodedLabels:
        self.encoder_ = LabelEncoder().fit(y)
        self.estimator_ = self.estimator
        self.estimator_.fit(X, self.encoder_.transform(y), **fit_params)
        self.classes_ = self.encoder_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.encoder_.inverse_transform(np.asarray(self.estimator_.predict(X))))

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.estimator_.predict_proba(X))

    def __sklearn_clone__(self) -> EncodedLabels:
        return EncodedLabels(clone(self.estimator))


def needs_encoded_labels(y: np.ndarray) -> bool:
    """True unless the labels are already the integers 0..n-1."""
    labels = np.unique(y)
    if not np.issubdtype(labels.dtype, np.integer):
        return True
    return bool(not np.array_equal(labels, np.arange(len(labels))))


__all__ = [
    "SEED_PARAMS",
    "EncodedLabels",
    "best_iteration",
    "build_class_estimator",
    "estimator_task",
    "fit_with_early_stopping",
    "needs_encoded_labels",
]
