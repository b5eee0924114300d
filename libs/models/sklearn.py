"""scikit-learn adapter: estimator registry, parameter checks, fitting."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, SVR

from libs.errors import InputError
from libs.models.by_class import (
    EncodedLabels,
    best_iteration,
    build_class_estimator,
    fit_with_early_stopping,
    needs_encoded_labels,
)
from libs.models.spec import SklearnModelSpec

Task = str  # "classification" | "regression"

# name -> {task: factory}. A missing task means the estimator does not apply.
_ESTIMATORS: dict[str, dict[str, Callable[..., BaseEstimator]]] = {
    "logistic_regression": {"classification": LogisticRegression},
    "random_forest": {
        "classification": RandomForestClassifier,
        "regression": RandomForestRegressor,
    },
    "gradient_boosting": {
        "classification": GradientBoostingClassifier,
        "regression": GradientBoostingRegressor,
    },
    "hist_gradient_boosting": {
        "classification": HistGradientBoostingClassifier,
        "regression": HistGradientBoostingRegressor,
    },
    "svm": {"classification": SVC, "regression": SVR},
    "knn": {"classification": KNeighborsClassifier, "regression": KNeighborsRegressor},
    "ridge": {"regression": Ridge},
    "linear_regression": {"regression": LinearRegression},
}

_DEFAULTS: dict[str, dict[str, Any]] = {
    # lbfgs on unscaled data needs more than the default 100 iterations.
    "logistic_regression": {"max_iter": 1000},
}


def sklearn_estimator_names(task: Task | None = None) -> list[str]:
    """Names selectable in `model.name`, optionally only those fit for a task."""
    return sorted(n for n, by_task in _ESTIMATORS.items() if task is None or task in by_task)


def build_estimator(spec: SklearnModelSpec, task: Task, seed: int) -> BaseEstimator:
    """Instantiate and validate the estimator; bad names or params are InputErrors."""
    if spec.estimator_class:
        return build_class_estimator(spec, task, seed)
    if spec.early_stopping is not None:
        raise InputError(
            f"model.early_stopping: '{spec.name}' takes no validation set in fit; use its own "
            "parameters (hist_gradient_boosting: early_stopping, validation_fraction) or a "
            "model.class that does (xgboost.XGBClassifier, lightgbm.LGBMClassifier)"
        )
    assert spec.name is not None  # the spec requires a name or a class
    by_task = _ESTIMATORS[spec.name]
    if task not in by_task:
        raise InputError(
            f"model.name: '{spec.name}' does not support {task}; "
            f"choose one of {', '.join(sklearn_estimator_names(task))}"
        )
    estimator = by_task[task]()
    known = estimator.get_params(deep=False)
    unknown = sorted(set(spec.params) - set(known))
    if unknown:
        raise InputError(
            f"model.params.{unknown[0]}: not a parameter of {type(estimator).__name__} "
            f"(known: {', '.join(sorted(known))})"
        )
    params = {**_DEFAULTS.get(spec.name, {}), **spec.params}
    # Seed every estimator that takes one, unless the config set it explicitly.
    if "random_state" in known and "random_state" not in spec.params:
        params["random_state"] = seed
    estimator.set_params(**params)
    try:
        # The same check fit() runs, done now so a bad value fails before any work.
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        # scikit-learn names the parameter: "The 'C' parameter of SVC must be ...".
        named = re.match(r"The '(\w+)' parameter", str(exc))
        field = f"model.params.{named.group(1)}" if named else "model.params"
        raise InputError(f"{field}: {exc}") from exc
    if spec.name == "svm" and task == "classification":
        # Calibrated probabilities give ROC curves and log loss; SVC(probability=True)
        # is deprecated in scikit-learn 1.9 in favour of exactly this wrapper.
        return CalibratedClassifierCV(estimator, cv=3, ensemble=False)
    return estimator


def refused_tasks(spec: SklearnModelSpec, seed: int = 0) -> dict[str, str]:
    """Each task this spec cannot train, with the one-line reason (no fitting, no data).

    The name may not support the task, or a parameter may be unknown to, or
    out of range for, that task's estimator (scikit-learn's own constraints).
    """
    refused: dict[str, str] = {}
    for task in ("classification", "regression"):
        try:
            build_estimator(spec, task, seed)
        except InputError as exc:
            refused[task] = str(exc)
    return refused


class SklearnModel:
    """Adapter around one scikit-learn estimator trained on preprocessed features."""

    framework = "sklearn"

    def __init__(self, spec: SklearnModelSpec, task: Task, seed: int = 0) -> None:
        self.spec = spec
        self.task = task
        self.seed = seed
        self.estimator = build_estimator(spec, task, seed)
        self.best_iteration: int | None = None

    def fit(self, features: Any, y: np.ndarray) -> SklearnModel:
        if self.spec.estimator_class and self.task == "classification" and needs_encoded_labels(y):
            self.estimator = EncodedLabels(self.estimator)  # XGBoost wants labels 0..n-1
        if self.spec.early_stopping is not None:
            fit_with_early_stopping(
                self.estimator, features, y, self.spec.early_stopping, self.task, self.seed
            )
            self.best_iteration = best_iteration(self.estimator)
        else:
            self.estimator.fit(features, y)
        return self

    def predict(self, features: Any) -> np.ndarray:
        return np.asarray(self.estimator.predict(features))

    def predict_proba(self, features: Any) -> np.ndarray | None:
        if self.task != "classification" or not hasattr(self.estimator, "predict_proba"):
            return None
        proba = np.asarray(self.estimator.predict_proba(features), dtype=float)
        # float32 probabilities (XGBoost, LightGBM) miss 1 by rounding: scikit-learn warns.
        return proba / proba.sum(axis=1, keepdims=True)

    @property
    def classes(self) -> list[Any] | None:
        classes = getattr(self.estimator, "classes_", None)
        return None if classes is None else list(classes)

    def importances(self) -> tuple[np.ndarray, str] | None:
        """The model's own importance per feature and which attribute gave it
        (`feature_importances_`, else the mean absolute `coef_`); None without either."""
        return own_importances(self.estimator)

    def as_pipeline(self, preprocessor: Any) -> Pipeline:
        """One pipeline that takes raw rows: the fitted features, then the estimator."""
        return Pipeline([("features", preprocessor), ("model", self.estimator)])


def own_importances(estimator: Any) -> tuple[np.ndarray, str] | None:
    """`feature_importances_`, else mean |coef_| over outputs, with the attribute's name;
    None when neither exists (a wrapper's fitted `estimator_` is looked into)."""
    inner = getattr(estimator, "estimator_", estimator)
    for candidate in (estimator, inner):
        try:
            values = getattr(candidate, "feature_importances_", None)
            coef = getattr(candidate, "coef_", None)
        except Exception:  # some estimators raise for an attribute their booster lacks
            continue
        if values is not None:
            return np.asarray(values, dtype=float).ravel(), "feature_importances_"
        if coef is not None:
            coef = np.abs(np.asarray(coef, dtype=float))
            return (coef if coef.ndim == 1 else coef.mean(axis=0)), "coef_"
    return None


__all__ = [
    "SklearnModel",
    "build_estimator",
    "own_importances",
    "refused_tasks",
    "sklearn_estimator_names",
]
