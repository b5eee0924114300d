"""The stages every per-framework training flow runs, wired once.

Each framework's flow (`train-sklearn`, `train-tensorflow`) is a thin
`@flow` around `run_training_pipeline`, so they share the same tasks, the
same MLflow run layout and the same registry gate; only the model differs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from blocks.storage import Storage
from flows.config.train import TrainConfig, check_train_config
from flows.runs.pipeline_steps import (
    fetch_inputs,
    fit,
    inputs_key,
    inputs_with_features,
    log_model_and_metrics,
    publish_evaluation,
    run_summary,
)
from libs.datasets import Split
from libs.errors import InputError
from libs.metrics.cost import COST_METRICS
from libs.settings import PlatformSettings, check_environment
from tasks import tracking
from tasks.caching import shared
from tasks.crossval import cross_validate_training, log_cross_validation
from tasks.data import Snapshot
from tasks.evaluate import evaluate_model
from tasks.lifecycle import (
    finish_tracking,
    record_config,
    start_tracking,
)
from tasks.preprocess import Features
from tasks.register import register_model
from tasks.report import RunSummary, publish_summary


def run_training_pipeline(
    config: TrainConfig,
    *,
    framework: str,
    parent_run_id: str | None = None,
    refresh_cache: bool = False,
    settings: PlatformSettings | None = None,
    lean: bool = False,
    complete_run_id: str | None = None,
) -> RunSummary:
    """Ingest, split, preprocess, train, evaluate, report, register; call from a flow.

    `framework` is the calling flow's: a config for another framework fails
    here, before any data is read or any MLflow run exists. So does every
    other config check (a run started from the UI or a deployment skips the
    command line's), and the data checks run inside ingest, before its
    snapshot is written and before the MLflow run starts. A `lean` run (a
    sweep's point) logs params, metrics, tags and datasets only: no report, no
    model, no registration; with `split.cv_folds` it fits its folds only and
    leaves the test split untouched. `complete_run_id` names a lean run to
    complete instead of starting one: its model fitted on the training split
    (a cache hit when the point fitted one), its test scores, report and model
    are logged into it (the cached ingest and features are reused).
    """
    if config.model.framework != framework:
        raise InputError(
            f"model.framework: this flow trains {framework} models, "
            f"the config asks for {config.model.framework}"
        )
    # 0. Checks: the settings and everything in the config knowable without data
    settings = check_environment(settings)  # given by the caller, else built once here
    rules = check_train_config(config)
    model_name = config.registered_model_name
    seed = config.split.model_seed  # the split has its own seed

    # 1. Data: storage, snapshot, checks, split (ingest and preprocess are cached);
    # a sweep's lean points take all four, and the features, from the first point
    features: Features | None = None
    if lean and not refresh_cache and config.split.folds:  # each fold fits its own features
        storage, cached, snapshot, split = shared(
            "folds-" + inputs_key(config, settings, rules),
            lambda: fetch_inputs(config, settings, rules, False),
        )
    elif lean and not refresh_cache:
        storage, cached, snapshot, split, features = shared(
            inputs_key(config, settings, rules),
            lambda: inputs_with_features(config, settings, rules),
        )
    else:
        storage, cached, snapshot, split = fetch_inputs(config, settings, rules, refresh_cache)
    if complete_run_id:
        return _complete_run(
            config, framework, complete_run_id, settings, storage, cached, snapshot, split
        )

    # 2. Tracking: one MLflow run for this flow run
    run = start_tracking(
        settings,
        experiment=config.tracking.experiment,
        run_name=model_name,
        params=config.flat_params(),
        tags={"config_digest": config.digest(), "framework": framework, "model_name": model_name},
        gate=config.gate,
        snapshot=snapshot,
        split=split,
        storage=storage,
        parent_run_id=parent_run_id,
        # A lean point keeps no artifacts: the sweep's run holds the sweep's config.
        config=None if lean else config.model_dump(mode="json"),
    )
    with tracking.failing_on_error(run):
        if lean and config.split.folds:
            # A cross-validated sweep point fits its folds only, as an optimiser's trial
            # does (the cost metrics from the first fold's model); the test split stays
            # untouched for the chosen model, which the sweep completes (complete_run_id).
            # A plain call, not a task run: the point's flow run is what the UI shows of
            # it, and a pure, seeded step has no retries to give (a task run cost the
            # point's process and the Prefect server its events and log lines).
            cv = cross_validate_training.fn(
                config.model, config.features, split, snapshot.task, config.split, cost=True
            )
            return _lean_point(config, run, settings, cv, "lean run: cross-validated only")

        # 3. Features and model, fitted on the training rows only (epochs stream to the run)
        features, model = fit(config, framework, storage, cached, snapshot, split, run, features)

        # 4. Evaluation (the test split; cross-validated on the training rows when asked)
        evaluation = evaluate_model(
            model, features, split, snapshot.task, seed, config.metrics.custom
        )
        cv = (
            cross_validate_training(
                config.model, config.features, split, snapshot.task, config.split
            )
            if config.split.folds
            else {}
        )
        if lean:  # a sweep's point: the sweep's report covers it, the best gets the rest
            metrics = {**evaluation.metrics, **cv}
            return _lean_point(config, run, settings, metrics, "lean run: no model logged")

        # 5. Model logging (its metrics tied to the test rows) and registration behind the gate
        model_uri = log_model_and_metrics(config, run, model, features, split, snapshot, evaluation)
        if cv:
            log_cross_validation(run, cv)
        registration = (
            register_model(
                run,
                name=model_name,
                model_uri=model_uri,
                gate=config.gate,
                task_type=snapshot.task,
                metrics=evaluation.metrics,
                tags={"config_digest": config.digest(), "data_sha256": snapshot.digest},
                intervals=evaluation.intervals,
                settings=settings,
            )
            if config.tracking.register_model
            else None
        )

        # 6. Report: the evaluation card, which names the gate's decision
        report_uri = publish_evaluation(
            config,
            run,
            storage,
            model,
            features,
            split,
            snapshot,
            evaluation,
            registration=registration,
        )
        finish_tracking(run)

    # 7. Summary in the Prefect UI
    summary = run_summary(
        config,
        run,
        settings,
        {**evaluation.metrics, **cv},
        registration.reason if registration else "registration disabled",
        version=registration.version if registration else None,
        champion=bool(registration and registration.promoted),
        report_uri=report_uri,
        model_uri=model_uri,
    )
    publish_summary(summary)
    return summary


def _lean_point(
    config: TrainConfig,
    run: tracking.RunHandle,
    settings: PlatformSettings,
    metrics: dict[str, float],
    reason: str,
) -> RunSummary:
    """A sweep point's last stage: its metrics logged, its run ended (one task run)."""
    from tasks.sweep import log_point

    log_point(run, metrics)
    return run_summary(config, run, settings, metrics, reason)


def _complete_run(
    config: TrainConfig,
    framework: str,
    run_id: str,
    settings: PlatformSettings,
    storage: Storage,
    cached: dict[str, Any],
    snapshot: Snapshot,
    split: Split,
) -> RunSummary:
    """Log the report and the model of a finished lean run (a sweep's best point) into it."""
    from tasks.sweep import child_run

    seed = config.split.model_seed  # the split has its own seed
    # 2. Tracking: the existing run
    # A failure here leaves the lean run as it was (FINISHED): the caller reports it.
    run = child_run(settings, run_id)
    record_config(run, config.model_dump(mode="json"))  # what --reproduce re-runs

    # 3. Features and model (cache hits for ingest and features; the model is fitted on
    # the whole training split here when the point cross-validated only, else a cache hit)
    features, model = fit(config, framework, storage, cached, snapshot, split, run)

    # 4. Evaluation and report
    evaluation = evaluate_model(model, features, split, snapshot.task, seed, config.metrics.custom)
    report_uri = publish_evaluation(
        config, run, storage, model, features, split, snapshot, evaluation
    )
    if config.split.folds:  # the run keeps the cost metrics its folds measured, as every
        # other point of the study has them (compared on the same footing)
        kept = {k: v for k, v in evaluation.metrics.items() if k not in COST_METRICS}
        evaluation = dataclasses.replace(evaluation, metrics=kept)

    # 5. Model logging (the caller registers it); a refitted Keras model's metrics
    # replace the lean run's, and either way they become the logged model's
    model_uri = log_model_and_metrics(config, run, model, features, split, snapshot, evaluation)
    return run_summary(
        config,
        run,
        settings,
        evaluation.metrics,
        "registered by the caller",
        report_uri=report_uri,
        model_uri=model_uri,
    )


__all__ = ["run_training_pipeline"]
