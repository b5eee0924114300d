"""k-fold cross-validation of one training config on the training rows. Pure: frames in.

A sweep's response is a cross-validated score, not the score on one test
split: one 80/20 split moves a fixed setting's score by about as much as
tuning does, so a study ranked on it would describe split noise. Every fold
fits the feature pipeline and the model on its own training part (nothing
of the held-out fold leaks in), and the folds are seeded by the split's seed,
so every point of a study is scored on the same folds.

Folds are not replicates: they share most of their training rows, so their
spread understates run-to-run variation. The analysis takes their mean as
one response per run; pure error comes from replicated runs only.

A sweep's point fits nothing but its folds (an optimiser's trial costs the
same), so what the model costs (`libs.metrics.cost`: training time,
prediction latency, size) is measured on the first fold's model when asked.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from libs.errors import InputError
from libs.features import FeatureSpec, build_preprocessor
from libs.metrics import compute_metrics
from libs.metrics.cost import cost_metrics, median_seconds, serialized_size
from libs.models import ModelSpec, create_model

PREFIX = "cv."


@dataclass(frozen=True)
class CrossValidation:
    """The metric set of each fold, in fold order, whether the folds were stratified, and
    (when asked) the cost metrics of the first fold's model."""

    folds: tuple[dict[str, float], ...]
    stratified: bool
    cost: dict[str, float] = field(default_factory=dict)

    def mean(self, metric: str) -> float:
        return float(np.mean([f[metric] for f in self.folds]))

    def std(self, metric: str) -> float:
        """Sample standard deviation over the folds (0 for one fold)."""
        values = [f[metric] for f in self.folds]
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    def metrics(self) -> dict[str, float]:
        """`cv.<metric>` (the mean), `cv.<metric>.std` and `cv.<metric>.fold<i>` (from 1);
        the cost metrics under their own names (`train_seconds`, ...)."""
        out: dict[str, float] = dict(self.cost)
        names = [
            n for n in self.folds[0] if all(math.isfinite(f.get(n, math.nan)) for f in self.folds)
        ]
        for name in names:
            out[f"{PREFIX}{name}"] = self.mean(name)
            out[f"{PREFIX}{name}.std"] = self.std(name)
            for i, fold in enumerate(self.folds, 1):
                out[f"{PREFIX}{name}.fold{i}"] = float(fold[name])
        return out


def cv_name(metric: str) -> str:
    """The logged name of a metric's cross-validated mean (`r2` -> `cv.r2`)."""
    return f"{PREFIX}{metric}"


def fold_indices(
    y: pd.Series, task: str, folds: int, seed: int, stratify: bool = True
) -> tuple[list[tuple[np.ndarray, np.ndarray]], bool]:
    """(train, held-out) positions of each fold; stratified for classification when every
    class has a row in every fold. Seeded: the same rows give the same folds."""
    if folds < 2:
        raise InputError(f"split.cv_folds: {folds} folds cannot cross-validate (2 or more)")
    if len(y) < 2 * folds:
        raise InputError(
            f"split.cv_folds: {folds} folds need at least {2 * folds} training rows, "
            f"the split has {len(y)}"
        )
    positions = np.arange(len(y))
    can_stratify = task == "classification" and stratify and y.value_counts().min() >= folds
    splitter = (
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        if can_stratify
        else KFold(n_splits=folds, shuffle=True, random_state=seed)
    )
    return [(tr, te) for tr, te in splitter.split(positions, y.to_numpy())], can_stratify


def cross_validate(
    model: ModelSpec,
    features: FeatureSpec,
    x: pd.DataFrame,
    y: pd.Series,
    task: str,
    *,
    folds: int,
    split_seed: int,
    train_seed: int,
    stratify: bool = True,
    cost: bool = False,
) -> CrossValidation:
    """Fit features and model on each fold's training part and score its held-out part.

    `x`, `y` are the training split's rows; the folds are seeded by `split_seed`
    (the same for every point of a study), the model by `train_seed`. With `cost`,
    the first fold's model is timed and sized as `tasks.evaluate` does a run's model:
    its fit, the median latency per held-out row, its pickled size.
    """
    indices, stratified = fold_indices(y, task, folds, split_seed, stratify)
    scores: list[dict[str, float]] = []
    costs: dict[str, float] = {}
    for train, held in indices:
        x_fit, y_fit = x.iloc[train], y.iloc[train]
        x_held, y_held = x.iloc[held], y.iloc[held]
        pre = build_preprocessor(features, x_fit)
        m_fit = pre.fit_transform(x_fit, y_fit)
        m_held = pre.transform(x_held)
        started = time.perf_counter()
        fitted = create_model(model, task, seed=train_seed).fit(m_fit, y_fit.to_numpy())
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        y_pred = fitted.predict(m_held)
        if cost and not costs:  # the first fold's model stands for the point's
            latency = median_seconds(
                lambda: fitted.predict(m_held),  # noqa: B023 (called before the loop goes on)
                time.perf_counter() - started,
            )
            costs = cost_metrics(fit_seconds, latency, len(y_pred), serialized_size(fitted))
        y_proba = fitted.predict_proba(m_held)
        scores.append(
            _finite(
                compute_metrics(
                    task,  # type: ignore[arg-type]
                    y_held.to_numpy(),
                    y_pred,
                    y_proba,
                    labels=fitted.classes,  # type: ignore[arg-type]
                )
            )
        )
    return CrossValidation(tuple(scores), stratified, costs)


def _finite(metrics: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v is not None}


__all__ = ["PREFIX", "CrossValidation", "cross_validate", "cv_name", "fold_indices"]
