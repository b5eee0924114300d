"""The stages every per-framework training flow runs, wired once.

Each framework's flow (`train-sklearn`, `train-tensorflow`) is a thin
`@flow` around `run_training_pipeline`, so they share the same tasks, the
same MLflow run layout and the same registry gate; only the model differs.
"""

from __future__ import annotations

from typing import Any

from blocks.storage import Storage
from flows.config.train import TrainConfig, check_train_config
from libs.commands import mlflow_ui_command
from libs.datasets import Split
from libs.errors import InputError
from libs.metrics import interval_metrics
from libs.models import ModelAdapter
from libs.settings import PlatformSettings, check_environment
from libs.shown import task_of_metrics
from tasks import tracking
from tasks.caching import cache_options, digest_of, shared
from tasks.crossval import cross_validate_training, log_cross_validation
from tasks.data import Snapshot, ingest, split_data
from tasks.evaluate import evaluate_model
from tasks.lifecycle import (
    finish_tracking,
    log_metrics,
    log_model,
    record_config,
    start_tracking,
    testing_dataset,
)
from tasks.preprocess import Features, fit_features
from tasks.register import Registration, register_model
from tasks.report import RunSummary, build_report, publish_report, publish_summary
from tasks.storage import open_storage
from tasks.train import train_model, train_model_cached


def _inputs(
    config: TrainConfig, settings: PlatformSettings, rules: Any, refresh_cache: bool
) -> tuple[Storage, dict[str, Any], Snapshot, Split]:
    """Storage, the cached ingest (snapshot and checks) and the split."""
    storage = open_storage(settings)
    cached = cache_options(storage, refresh_cache)
    snapshot = ingest.with_options(**cached)(
        config.data, config.features, config.split.seed, storage, rules
    )
    return storage, cached, snapshot, split_data(snapshot, config.split)


def _inputs_with_features(
    config: TrainConfig, settings: PlatformSettings, rules: Any
) -> tuple[Storage, dict[str, Any], Snapshot, Split, Features]:
    """The inputs and the features fitted on their training rows, as a sweep shares them."""
    storage, cached, snapshot, split = _inputs(config, settings, rules, False)
    data_key = f"{storage.root}:{snapshot.digest}:{config.split.rows_key()}"
    features = fit_features.with_options(**cached)(config.features, split, data_key)
    return storage, cached, snapshot, split, features


def _inputs_key(config: TrainConfig, settings: PlatformSettings, rules: Any) -> str:
    """What the shared inputs depend on: settings, data, features, split and data rules."""
    return "inputs-" + digest_of(
        settings.model_dump(mode="json"),
        config.data,
        config.features,
        config.split.rows_key(),
        rules,
    )


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
    model, no registration. `complete_run_id` names a lean run to complete
    instead of starting one: its report and model are logged into it (the
    cached ingest, features and scikit-learn fit are reused).
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
    if lean and not refresh_cache:
        storage, cached, snapshot, split, features = shared(
            _inputs_key(config, settings, rules),
            lambda: _inputs_with_features(config, settings, rules),
        )
    else:
        storage, cached, snapshot, split = _inputs(config, settings, rules, refresh_cache)
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
        # 3. Features and model, fitted on the training rows only (epochs stream to the run)
        features, model = _fit(config, framework, storage, cached, snapshot, split, run, features)

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
            from tasks.sweep import log_point

            log_point(run, {**evaluation.metrics, **cv})
            return _summary(
                config, run, settings, {**evaluation.metrics, **cv}, "lean run: no model logged"
            )

        # 5. Model logging (its metrics tied to the test rows) and registration behind the gate
        model_uri = _log_model(config, run, model, features, split, snapshot, evaluation)
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
        report_uri = _report(
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
    summary = _summary(
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


def _summary(
    config: TrainConfig,
    run: tracking.RunHandle,
    settings: PlatformSettings,
    metrics: dict[str, float],
    gate_reason: str,
    *,
    version: str | None = None,
    champion: bool = False,
    report_uri: str = "",
    model_uri: str = "",
) -> RunSummary:
    """What a training flow returns: the run, the gate's word, the metrics, where to look."""
    return RunSummary(
        run_id=run.run_id,
        run_url=run.url,
        experiment=config.tracking.experiment,
        model_name=config.registered_model_name,
        version=version,
        champion=champion,
        gate_reason=gate_reason,
        metrics=metrics,
        report_uri=report_uri,
        ui_command=mlflow_ui_command(settings),
        model_uri=model_uri,
        primary_metric=config.gate.metric_for(task_of_metrics(metrics)),
    )


def _log_model(
    config: TrainConfig,
    run: tracking.RunHandle,
    model: ModelAdapter,
    features: Features,
    split: Split,
    snapshot: Snapshot,
    evaluation: Any,
) -> str:
    """The model, named after the registered model, then its metrics (and intervals) tied
    to it and to the test rows; returns the model's URI."""
    model_uri = log_model(
        run, model, features, split, name=config.registered_model_name, params=config.flat_params()
    )
    log_metrics(
        run,
        {**evaluation.metrics, **interval_metrics(evaluation.intervals)},
        model_uri,
        testing_dataset(snapshot, split),
    )
    return model_uri


def _report(
    config: TrainConfig,
    run: tracking.RunHandle,
    storage: Storage,
    model: ModelAdapter,
    features: Features,
    split: Split,
    snapshot: Snapshot,
    evaluation: Any,
    registration: Registration | None = None,
) -> str:
    """Build the evaluation card (naming the gate's decision when there is one) and publish
    it to the run; returns its URI."""
    model_name = config.registered_model_name
    meta = {
        "run id": run.run_id,
        "model": model_name,
        "data": snapshot.uri,
        "data digest": f"sha256:{snapshot.digest}",
    }
    html = build_report(
        f"{model_name}: evaluation",
        model,
        features,
        split,
        evaluation,
        snapshot.task,
        meta,
        config.split.model_seed,
        registration=registration,
        config=config.flat_params(),
        data_source=config.data.source,
    )
    return publish_report(run, html, storage)


def _fit(
    config: TrainConfig,
    framework: str,
    storage: Storage,
    cached: dict[str, Any],
    snapshot: Snapshot,
    split: Split,
    run: tracking.RunHandle,
    features: Features | None = None,
) -> tuple[Features, ModelAdapter]:
    """Features (unless given) and model on the training rows; the scikit-learn fit is
    seeded and cached like the features, a Keras fit streams its epochs to the run."""
    # The rows the features are fitted on, in this storage (results live beside it).
    data_key = f"{storage.root}:{snapshot.digest}:{config.split.rows_key()}"
    if features is None:
        features = fit_features.with_options(**cached)(config.features, split, data_key)
    if framework == "sklearn":
        fitted_on = f"{data_key}:{config.features.model_dump_json()}"
        model = train_model_cached.with_options(**cached)(
            config.model, snapshot.task, config.split.model_seed, features, split, fitted_on
        )
    else:
        model = train_model(
            config.model, snapshot.task, config.split.model_seed, features, split, run
        )
    return features, model


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

    # 3. Features and model (cache hits for ingest, features and a scikit-learn fit)
    features, model = _fit(config, framework, storage, cached, snapshot, split, run)

    # 4. Evaluation and report
    evaluation = evaluate_model(model, features, split, snapshot.task, seed, config.metrics.custom)
    report_uri = _report(config, run, storage, model, features, split, snapshot, evaluation)

    # 5. Model logging (the caller registers it); a refitted Keras model's metrics
    # replace the lean run's, and either way they become the logged model's
    model_uri = _log_model(config, run, model, features, split, snapshot, evaluation)
    return _summary(
        config,
        run,
        settings,
        evaluation.metrics,
        "registered by the caller",
        report_uri=report_uri,
        model_uri=model_uri,
    )


__all__ = ["run_training_pipeline"]
