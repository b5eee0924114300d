"""The training flows by framework, and the deployable `train` flow that picks one.

`TRAINING_FLOWS` is the one table of which flow trains which framework: the
command line (`python -m flows.train`), the deployments (`train/<name>`), the
sweep's points and the Python API all pick their flow here. Each flow is
imported when first picked, so that `--help` stays instant and TensorFlow is
imported only when a Keras model is trained.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from prefect import flow

from flows.config.train import TrainConfig, load_train_config
from libs.errors import InputError

if TYPE_CHECKING:
    from libs.settings import PlatformSettings
    from tasks.report import RunSummary

# framework -> (module, flow); a new framework is one line here and its flow module.
TRAINING_FLOWS: dict[str, tuple[str, str]] = {
    "sklearn": ("flows.runs.frameworks", "train_sklearn"),
    "tensorflow": ("flows.runs.frameworks", "train_tensorflow"),
}


def training_flow(framework: str) -> Any:
    """The per-framework flow (importing it loads Prefect, MLflow and the framework)."""
    where = TRAINING_FLOWS.get(framework)
    if where is None:
        raise InputError(f"model.framework: no training flow for '{framework}'")
    module, name = where
    return getattr(importlib.import_module(module), name)


def run_training(
    config: TrainConfig,
    *,
    refresh_cache: bool = False,
    parent_run_id: str | None = None,
    settings: PlatformSettings | None = None,
) -> RunSummary:
    """Pick the config's flow from the table and run it (nested under a parent run)."""
    flow_fn = training_flow(config.model.framework)
    summary: RunSummary = flow_fn(
        config, parent_run_id=parent_run_id, refresh_cache=refresh_cache, settings=settings
    )
    return summary


@flow(name="train", version="1")
def train(
    config: TrainConfig | None = None,
    config_file: str | None = "configs/default.yaml",
    overrides: list[str] | None = None,
    parent_run_id: str | None = None,
    refresh_cache: bool = False,
) -> RunSummary:
    """Train from `config` when given, else from `config_file` plus `overrides`.

    The deployments' flow (`prefect deployment run 'train/<name>'`). Paths are
    relative to the deployment's working directory (the checkout or the
    image's /app).
    """
    resolved = config or load_train_config(config_file, overrides or [])
    return run_training(resolved, parent_run_id=parent_run_id, refresh_cache=refresh_cache)


__all__ = ["TRAINING_FLOWS", "run_training", "train", "training_flow"]
