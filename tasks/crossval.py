"""Cross-validate a training config on the training split (`libs.crossval`), log the folds."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.crossval import cross_validate
from libs.datasets import Split, SplitSpec
from libs.features import FeatureSpec
from libs.models import ModelSpec
from tasks import tracking
from tasks._common import io_task


@task(name="cross-validate", cache_policy=NO_CACHE)
def cross_validate_training(
    model: ModelSpec,
    features: FeatureSpec,
    split: Split,
    task_type: str,
    spec: SplitSpec,
    cost: bool = False,
) -> dict[str, float]:
    """`cv.<metric>` means, standard deviations and fold scores on the training rows.

    The folds are seeded by the split's seed, so every point of a sweep (and
    every replicate) is scored on the same folds; the model by the training seed.
    With `cost`, the cost metrics of the first fold's model too (a lean point, which
    fits nothing else).
    """
    result = cross_validate(
        model,
        features,
        split.x_train,
        split.y_train,
        task_type,
        folds=spec.folds,
        split_seed=spec.seed,
        train_seed=spec.model_seed,
        stratify=spec.stratify,
        cost=cost,
    )
    return result.metrics()


@io_task("log-cross-validation", cache_policy=NO_CACHE)
def log_cross_validation(run: tracking.RunHandle, metrics: dict[str, float]) -> None:
    """The cross-validated scores of a full training run (a sweep's point logs them with its
    test scores in one call)."""
    tracking.log_metrics(run, metrics)


__all__ = ["cross_validate_training", "log_cross_validation"]
