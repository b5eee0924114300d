"""Train a model through the framework-agnostic factory."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.datasets import Split
from libs.models import ModelAdapter, ModelSpec, create_model
from tasks.preprocess import Features


@task(name="train", cache_policy=NO_CACHE)
def train_model(
    spec: ModelSpec, task_type: str, seed: int, features: Features, split: Split
) -> ModelAdapter:
    """Fit `create_model(spec)` on the preprocessed training matrix (seeded)."""
    model = create_model(spec, task_type, seed=seed)
    return model.fit(features.train, split.y_train.to_numpy())


__all__ = ["train_model"]
