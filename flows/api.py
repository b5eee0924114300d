"""The platform from Python or a notebook: `train`, `sweep` and `predict` as functions.

    from flows.api import predict, sweep, train

    summary = train("configs/iris_random_forest.yaml", overrides=["model.params.n_estimators=50"])
    print(summary.run_url)

Each takes a config (the object, or a YAML path plus `--set`-style overrides),
runs the same flow as its command line and returns the same typed summary.
Like the command line, it uses the servers of `make serve` when they run
(`<MLOPS_HOME>/serve/servers.json`): MLflow runs land in the store the UI
shows and the Prefect runs in its server; with nothing running, the local
Prefect server is started (or reused) and MLflow logs to SQLite under
`MLOPS_HOME`. Bad input raises `libs.errors.InputError` naming the field.

An entry point like the command lines: it may import the process management
(`deployments.runtime`); flow and task modules may not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.predict_config import PredictConfig
    from flows.sweep_config import SweepConfig
    from flows.train_config import TrainConfig
    from tasks.predict import BatchSummary
    from tasks.report import RunSummary
    from tasks.sweep import SweepSummary


def train(
    config: TrainConfig | str | Path | None = None,
    *,
    overrides: Sequence[str] = (),
    refresh_cache: bool = False,
) -> RunSummary:
    """Train, evaluate and register; `config` None means the embedded defaults."""
    from deployments.runtime import local_prefect
    from flows.train_config import TrainConfig, load_train_config
    from flows.train_flow import run_training

    if not isinstance(config, TrainConfig):
        config = load_train_config(None if config is None else str(config), list(overrides))
    elif overrides:
        raise TypeError("overrides apply to a config file; change a TrainConfig with model_copy")
    with local_prefect() as settings:
        return run_training(config, refresh_cache=refresh_cache, settings=settings)


def sweep(config: SweepConfig | str | Path, *, overrides: Sequence[str] = ()) -> SweepSummary:
    """Run a DOE sweep from a sweep config (object or YAML path)."""
    from deployments.runtime import local_prefect
    from flows.sweep import point_workers
    from flows.sweep_config import SweepConfig, load_sweep_config, plan_sweep
    from flows.sweep_flow import run_sweep

    if not isinstance(config, SweepConfig):
        config = load_sweep_config(str(config), list(overrides))
    elif overrides:
        raise TypeError("overrides apply to a config file; change a SweepConfig with model_copy")
    plan = plan_sweep(config)
    with local_prefect() as settings, point_workers(plan, settings) as executor:
        return run_sweep(config, plan, executor)


def predict(config: PredictConfig | None = None, **fields: Any) -> BatchSummary:
    """Score a table: a `PredictConfig`, or its fields (`model=`, `input=`, `output=`, ...)."""
    from deployments.runtime import local_prefect
    from flows.predict_config import PredictConfig
    from flows.predict_flow import batch_predict
    from libs.config import validate

    if config is None:
        config = validate(PredictConfig, fields, "arguments")
    elif fields:
        raise TypeError("give a PredictConfig or its fields, not both")
    with local_prefect() as settings:
        return batch_predict(config, settings=settings)


__all__ = ["predict", "sweep", "train"]
