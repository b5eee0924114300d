"""Train a model through the framework-agnostic factory."""

from __future__ import annotations

import time
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.datasets import Split
from libs.models import EpochHook, ModelAdapter, ModelSpec, create_model
from libs.models.imports import code_digest
from tasks import tracking
from tasks.caching import train_cache_key
from tasks.preprocess import Features


def epoch_logger(run: tracking.RunHandle) -> EpochHook:
    """Log each epoch's figures (loss, acc, val_*) to the run as steps 1, 2, ..."""

    def log_epoch(epoch: int, logs: dict[str, float]) -> None:
        tracking.log_epoch_metrics(run, logs, epoch=epoch + 1)

    return log_epoch


@task(name="train", cache_policy=NO_CACHE)
def train_model(
    spec: ModelSpec,
    task_type: str,
    seed: int,
    features: Features,
    split: Split,
    run: tracking.RunHandle | None = None,
) -> ModelAdapter:
    """Fit `create_model(spec)` on the preprocessed training matrix (seeded).

    With `run`, models that train in epochs stream each epoch's metrics to it
    while they train, and the device they trained on becomes the run's
    `device` tag.
    """
    return _fit(spec, task_type, seed, features, split, run)


def own_code_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """`train_cache_key`, plus the source and package versions of a `model.class`: an
    edited estimator of your own (or another XGBoost) fits again instead of reusing."""
    key = train_cache_key(context, parameters)
    path = getattr(parameters["spec"], "estimator_class", None)
    if not path:
        return key
    return f"{key}-{code_digest([path.rpartition('.')[0]])[:16]}"


@task(name="train", cache_key_fn=own_code_cache_key, persist_result=True)
def train_model_cached(
    spec: ModelSpec,
    task_type: str,
    seed: int,
    features: Features,
    split: Split,
    data_key: str,
) -> ModelAdapter:
    """`train_model` for scikit-learn models, whose seeded fit is a pure function.

    `data_key` names the rows the features were fitted on (like `fit_features`):
    an unchanged config on unchanged data and code reuses the fitted model
    instead of fitting it again. Models that train in epochs (Keras) stream
    metrics to their run while they fit and are never cached.
    """
    return _fit(spec, task_type, seed, features, split, None)


def _fit(
    spec: ModelSpec,
    task_type: str,
    seed: int,
    features: Features,
    split: Split,
    run: tracking.RunHandle | None,
) -> ModelAdapter:
    hook = epoch_logger(run) if run is not None else None
    model = create_model(spec, task_type, seed=seed, on_epoch_end=hook)
    started = time.perf_counter()
    model = model.fit(features.train, split.y_train.to_numpy())
    # Measured here and kept on the adapter, so a cached fit reports the time it took.
    model.train_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    device = getattr(model, "device", None)
    if run is not None and device:
        tracking.set_tags(run, {"device": device})
    return model


__all__ = ["epoch_logger", "own_code_cache_key", "train_model", "train_model_cached"]
