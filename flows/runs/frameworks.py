"""The training flows by framework: the same stages, tasks and gate for each.

One flow per framework, so that the Prefect UI and the MLflow runs name the
framework (`train-sklearn`, `train-tensorflow`); each is the one training
pipeline (`flows.runs.pipeline`) with its framework fixed. Importing this
module does not import TensorFlow; training a Keras model does.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.config.train import TrainConfig
from flows.runs.pipeline import run_training_pipeline
from libs.models import TensorflowModelSpec
from libs.settings import PlatformSettings
from tasks.report import RunSummary

_OPTIONS = """

    `parent_run_id` nests this run's MLflow run under another (a sweep's);
    `refresh_cache` recomputes ingest and preprocess even when cached; `lean`
    (a sweep's point) logs no report and no model; `complete_run_id` logs the
    report and model into that finished lean run instead of starting a run;
    `settings` are the caller's (built here when not given).
    """


def _training_flow(framework: str, default: TrainConfig, what: str) -> Any:
    """The `train-<framework>` flow: the training pipeline for that framework's configs."""

    def train(
        config: TrainConfig = default,
        parent_run_id: str | None = None,
        refresh_cache: bool = False,
        settings: PlatformSettings | None = None,
        lean: bool = False,
        complete_run_id: str | None = None,
    ) -> RunSummary:
        return run_training_pipeline(
            config,
            framework=framework,
            parent_run_id=parent_run_id,
            refresh_cache=refresh_cache,
            settings=settings,
            lean=lean,
            complete_run_id=complete_run_id,
        )

    train.__doc__ = what + _OPTIONS  # Prefect shows it as the flow's description
    train.__name__ = train.__qualname__ = f"train_{framework}"
    return flow(name=f"train-{framework}", version="1")(train)


train_sklearn = _training_flow(
    "sklearn",
    TrainConfig(),
    "Train, evaluate and register a scikit-learn model described by `config`.",
)
train_tensorflow = _training_flow(
    "tensorflow",
    TrainConfig(model=TensorflowModelSpec()),
    "Train, evaluate and register a Keras model described by `config`.\n\n"
    "    The registered model is a pyfunc that takes raw rows (the fitted feature\n"
    "    pipeline travels with the network); per-epoch metrics are logged as steps\n"
    "    and the training device as the run's `device` tag. Runs on a GPU when\n"
    "    TensorFlow sees one, with no config change.",
)


__all__ = ["train_sklearn", "train_tensorflow"]
