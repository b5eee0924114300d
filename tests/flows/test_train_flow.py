"""Real training runs under the Prefect test server, MLflow on SQLite in a temp folder."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.train import run_training
from libs.datasets import load_bundled
from libs.settings import PlatformSettings
from tasks import tracking
from tasks.register import register_model


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def test_full_run_registers_a_champion(flow_home: Path, model_name: str) -> None:
    # given
    config = load_train_config(
        None, [f"tracking.model_name={model_name}", "gate.threshold=0.9", "model.params.C=0.5"]
    )
    # when
    summary = train_sklearn(config)
    # then: one finished MLflow run with params, metrics, tags, inputs and the report
    run = client().get_run(summary.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["model.params.C"] == "0.5"
    assert run.data.params["data.source"] == "breast_cancer"
    assert run.data.metrics["accuracy"] > 0.9
    assert run.data.tags["config_digest"] == config.digest()
    assert run.data.tags["prefect.flow_run_id"]
    assert run.data.tags["data.snapshot_sha256"]
    contexts = sorted(
        tag.value
        for d in run.inputs.dataset_inputs
        for tag in d.tags
        if tag.key == "mlflow.data.context"
    )
    assert contexts == ["testing", "training"]
    artifacts = [a.path for a in client().list_artifacts(summary.run_id, "report")]
    assert artifacts == ["report/report.html"]
    assert Path(summary.report_uri).is_file()
    # and: version 1 became champion with the gate's outcome in its tags
    assert summary.version == "1" and summary.champion
    mv = client().get_model_version_by_alias(model_name, "champion")
    logged = client().get_logged_model(mv.model_id or mv.source.removeprefix("models:/"))
    assert logged.experiment_id == run.info.experiment_id
    assert logged.artifact_location.startswith((flow_home / "mlartifacts").resolve().as_uri())
    assert str(mv.version) == "1"
    assert mv.tags["gate"].startswith("promoted: accuracy ")
    assert "gate.promote" not in mv.tags and "registered_by.pid" not in mv.tags
    # and: the registered model takes raw rows and predicts
    model = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    rows = load_bundled("breast_cancer").drop(columns=["target"]).head(10)
    assert len(model.predict(rows)) == 10


def test_worse_second_run_does_not_move_champion(flow_home: Path, model_name: str) -> None:
    # given: a good champion
    good = train_sklearn(load_train_config(None, [f"tracking.model_name={model_name}"]))
    # when: a much worse model (heavily regularised) is trained under the same name
    worse = train_sklearn(
        load_train_config(None, [f"tracking.model_name={model_name}", "model.params.C=0.00001"])
    )
    # then
    assert good.champion and good.version == "1"
    assert worse.version == "2" and not worse.champion
    assert worse.metrics["accuracy"] < good.metrics["accuracy"]
    assert client().get_model_version_by_alias(model_name, "champion").version == 1
    tags = client().get_model_version(model_name, "2").tags
    assert tags["gate"].startswith("not promoted: ")
    assert "does not beat champion v1" in tags["gate"]


def test_training_failure_marks_run_failed_and_registers_nothing(
    flow_home: Path, model_name: str
) -> None:
    # given: exponential loss is valid for the estimator but fails on three classes at fit
    config = load_train_config(
        None,
        [
            f"tracking.model_name={model_name}",
            "tracking.experiment=failures",
            "data.source=iris",
            "model.name=gradient_boosting",
            "model.params.loss=exponential",
        ],
    )
    # when
    with pytest.raises(ValueError, match="exponential"):
        train_sklearn(config)
    # then
    experiment = client().get_experiment_by_name("failures")
    assert experiment is not None
    runs = client().search_runs([experiment.experiment_id])
    assert [r.info.status for r in runs] == ["FAILED"]
    assert "exponential" in runs[0].data.tags["error"]
    with pytest.raises(MlflowException):
        client().get_registered_model(model_name)


def test_bad_data_fails_before_any_mlflow_run(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given: a CSV whose target has a single class
    path = tmp_path / "one_class.csv"
    pd.DataFrame({"x": range(20), "y": [1] * 20}).to_csv(path, index=False)
    config = load_train_config(
        None,
        [
            f"data.source={path}",
            "data.target=y",
            "data.task=classification",
            "tracking.experiment=bad-data",
            f"tracking.model_name={model_name}",
        ],
    )
    # when
    with pytest.raises(ValueError, match="single class"):
        train_sklearn(config)
    # then
    assert client().get_experiment_by_name("bad-data") is None


def test_register_retry_does_not_create_a_second_version(flow_home: Path, model_name: str) -> None:
    # given: a finished run whose model was registered once
    summary = train_sklearn(load_train_config(None, [f"tracking.model_name={model_name}"]))
    settings = PlatformSettings()
    run = tracking.RunHandle(summary.run_id, "", settings.resolved_tracking_uri, "")
    model_uri = client().get_model_version(model_name, "1").source
    # when: the register task runs again for the same run (as a retry would)
    again = register_model.fn(
        run,
        name=model_name,
        model_uri=model_uri,
        gate=load_train_config().gate,
        task_type="classification",
        metrics=summary.metrics,
        tags={},
    )
    # then
    assert again.version == "1" and again.promoted
    assert [str(v.version) for v in client().search_model_versions(f"name = '{model_name}'")] == [
        "1"
    ]


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[2] / "configs").glob("*.yaml")), ids=lambda p: p.stem
)
def test_every_shipped_config_runs(flow_home: Path, model_name: str, path: Path) -> None:
    # given: the shipped config on a small sample, registered under a test-only name
    config = load_train_config(path, ["data.max_rows=150", f"tracking.model_name={model_name}"])
    # when: through the dispatcher, which picks the framework's flow
    summary = run_training(config)
    # then
    assert client().get_run(summary.run_id).info.status == "FINISHED"
    assert summary.version == "1"
    assert (
        config.gate.metric_for(
            "regression" if config.data.source == "diabetes" else "classification"
        )
        in summary.metrics
    )
