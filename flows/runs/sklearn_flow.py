"""The scikit-learn training flow: ingest, split, preprocess, train, evaluate, register."""

from __future__ import annotations

from prefect import flow

from flows.config.train import TrainConfig
from flows.runs.pipeline import run_training_pipeline
from libs.settings import PlatformSettings
from tasks.report import RunSummary


@flow(name="train-sklearn", version="1")
def train_sklearn(
    config: TrainConfig = TrainConfig(),  # noqa: B008
    parent_run_id: str | None = None,
    refresh_cache: bool = False,
    settings: PlatformSettings | None = None,
    lean: bool = False,
    complete_run_id: str | None = None,
) -> RunSummary:
    """Train, evaluate and register a scikit-learn model described by `config`.

    `parent_run_id` nests this run's MLflow run under another (a sweep's);
    `refresh_cache` recomputes ingest and preprocess even when cached; `lean`
    (a sweep's point) logs no report and no model; `complete_run_id` logs the
    report and model into that finished lean run instead of starting a run;
    `settings` are the caller's (built here when not given).
    """
    return run_training_pipeline(
        config,
        framework="sklearn",
        parent_run_id=parent_run_id,
        refresh_cache=refresh_cache,
        settings=settings,
        lean=lean,
        complete_run_id=complete_run_id,
    )


__all__ = ["train_sklearn"]
