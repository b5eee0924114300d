"""The steps the training pipeline wires (`flows.runs.pipeline`): its inputs (storage,
snapshot, split, features), the fit, the logged model with its metrics, the evaluation
report and the summary a training flow returns."""

from __future__ import annotations

from typing import Any

from blocks.storage import Storage
from flows.config.train import TrainConfig
from libs.commands import mlflow_ui_command
from libs.datasets import Split
from libs.metrics import interval_metrics
from libs.models import ModelAdapter
from libs.settings import PlatformSettings
from libs.shown import task_of_metrics
from tasks import tracking
from tasks.caching import cache_options, digest_of
from tasks.data import Snapshot, ingest, split_data
from tasks.lifecycle import log_metrics, log_model, testing_dataset
from tasks.preprocess import Features, fit_features
from tasks.register import Registration
from tasks.report import RunSummary, build_report, publish_report
from tasks.storage import open_storage
from tasks.train import train_model, train_model_cached


def fetch_inputs(
    config: TrainConfig, settings: PlatformSettings, rules: Any, refresh_cache: bool
) -> tuple[Storage, dict[str, Any], Snapshot, Split]:
    """Storage, the cached ingest (snapshot and checks) and the split."""
    storage = open_storage(settings)
    cached = cache_options(storage, refresh_cache)
    snapshot = ingest.with_options(**cached)(
        config.data, config.features, config.split.seed, storage, rules
    )
    return storage, cached, snapshot, split_data(snapshot, config.split)


def inputs_with_features(
    config: TrainConfig, settings: PlatformSettings, rules: Any
) -> tuple[Storage, dict[str, Any], Snapshot, Split, Features]:
    """The inputs and the features fitted on their training rows, as a sweep shares them."""
    storage, cached, snapshot, split = fetch_inputs(config, settings, rules, False)
    data_key = f"{storage.root}:{snapshot.digest}:{config.split.rows_key()}"
    features = fit_features.with_options(**cached)(config.features, split, data_key)
    return storage, cached, snapshot, split, features


def inputs_key(config: TrainConfig, settings: PlatformSettings, rules: Any) -> str:
    """What the shared inputs depend on: settings, data, features, split and data rules."""
    return "inputs-" + digest_of(
        settings.model_dump(mode="json"),
        config.data,
        config.features,
        config.split.rows_key(),
        rules,
    )


def run_summary(
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


def log_model_and_metrics(
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


def publish_evaluation(
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


def fit(
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


__all__ = [
    "fetch_inputs",
    "fit",
    "inputs_key",
    "inputs_with_features",
    "log_model_and_metrics",
    "publish_evaluation",
    "run_summary",
]
