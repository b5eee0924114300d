"""The TensorFlow/Keras training flow: the same stages, tasks and gate as scikit-learn's.

Importing this module does not import TensorFlow; training a Keras model does.
"""

from __future__ import annotations

from prefect import flow

from flows.config.train import TrainConfig
from flows.runs.pipeline import run_training_pipeline
from libs.models import TensorflowModelSpec
from libs.settings import PlatformSettings
from tasks.report import RunSummary


@flow(name="train-tensorflow", version="1")
def train_tensorflow(
    config: TrainConfig = TrainConfig(model=TensorflowModelSpec()),  # noqa: B008
    parent_run_id: str | None = None,
    refresh_cache: bool = False,
    settings: PlatformSettings | None = None,
    lean: bool = False,
    complete_run_id: str | None = None,
) -> RunSummary:
    """Train, evaluate and register a Keras model described by `config`.

    The registered model is a pyfunc that takes raw rows (the fitted feature
    pipeline travels with the network); per-epoch metrics are logged as steps
    and the training device as the run's `device` tag. Runs on a GPU when
    TensorFlow sees one, with no config change.
    """
    return run_training_pipeline(
        config,
        framework="tensorflow",
        parent_run_id=parent_run_id,
        refresh_cache=refresh_cache,
        settings=settings,
        lean=lean,
        complete_run_id=complete_run_id,
    )


__all__ = ["train_tensorflow"]
