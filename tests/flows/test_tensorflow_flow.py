"""The TensorFlow flow end to end under the Prefect test server, MLflow in a temp folder."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flows.config.train import TrainConfig, load_train_config
from flows.runs.frameworks import train_sklearn, train_tensorflow
from libs.datasets import load_bundled
from libs.errors import InputError
from libs.metrics.cost import COST_METRICS
from libs.settings import PlatformSettings

EPOCHS = 3


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def small_cnn(model_name: str, *extra: str) -> TrainConfig:
    """tf-digits.yaml on 300 rows and a few epochs: seconds, not a minute."""
    return load_train_config(
        Path(__file__).parents[2] / "configs" / "tf-digits.yaml",
        [
            "data.max_rows=300",
            f"model.epochs={EPOCHS}",
            "model.batch_size=16",
            "model.learning_rate=0.005",
            "model.early_stopping_patience=null",
            "gate.threshold=null",
            f"tracking.model_name={model_name}",
            *extra,
        ],
    )


def test_keras_run_registers_a_raw_rows_model_with_epoch_history(
    flow_home: Path, model_name: str
) -> None:
    # given
    config = small_cnn(model_name)
    # when
    summary = train_tensorflow(config)
    # then: one finished run, version 1 is champion
    run = client().get_run(summary.run_id)
    assert run.info.status == "FINISHED"
    assert summary.version == "1" and summary.champion
    assert run.data.tags["framework"] == "tensorflow"
    assert run.data.tags["device"] == "CPU" or run.data.tags["device"].startswith("GPU:0 ")
    # and: every epoch is a step of the loss, accuracy and validation histories
    for key in ("loss", "acc", "val_loss", "val_acc"):
        history = client().get_metric_history(summary.run_id, key)
        assert [m.step for m in history] == list(range(1, EPOCHS + 1)), key
    # and: the test-set accuracy is its own metric, not overwritten by an epoch's
    assert run.data.metrics["accuracy"] == pytest.approx(summary.metrics["accuracy"])
    assert summary.metrics["accuracy"] > 0.5
    # and: the report has the training history; the model pins its requirements
    report = Path(summary.report_uri).read_text(encoding="utf-8")
    assert "Training history" in report
    requirements = Path(mlflow.pyfunc.get_model_dependencies(summary.model_uri)).read_text()
    pinned = {line.split("==")[0] for line in requirements.split() if "==" in line}
    assert {"tensorflow", "keras", "scikit-learn", "mlflow", "pandas", "numpy"} <= pinned
    # and: the registered model takes raw rows and returns digit labels
    model = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    rows = load_bundled("digits").head(40)
    predicted = model.predict(rows.drop(columns=["target"]))
    assert len(predicted) == 40
    assert set(predicted.tolist()) <= set(range(10))
    assert (predicted == rows["target"].to_numpy()).mean() > 0.5
    assert model.metadata.get_input_schema().input_names()[0] == "pixel_0_0"


def test_two_seeded_runs_give_equal_metrics(flow_home: Path, model_name: str) -> None:
    # given: the same config twice, registered under two names
    first_config = small_cnn(f"{model_name}-a", "model.epochs=2")
    second_config = small_cnn(f"{model_name}-b", "model.epochs=2")
    # when
    first = train_tensorflow(first_config)
    second = train_tensorflow(second_config)
    # then
    # (every quality metric; training time and latency are measured, not seeded)
    quality = set(first.metrics) - set(COST_METRICS)
    assert {k: first.metrics[k] for k in quality} == {k: second.metrics[k] for k in quality}
    losses = [
        [m.value for m in client().get_metric_history(s.run_id, "val_loss")]
        for s in (first, second)
    ]
    assert losses[0] == losses[1]


def test_each_flow_refuses_the_other_frameworks_config(flow_home: Path, model_name: str) -> None:
    # given
    keras_config = small_cnn(model_name, "tracking.experiment=wrong-flow")
    sklearn_config = load_train_config(
        None, [f"tracking.model_name={model_name}", "tracking.experiment=wrong-flow"]
    )
    # when / then: refused before any MLflow run exists
    with pytest.raises(InputError, match="trains sklearn models, the config asks for tensorflow"):
        train_sklearn(keras_config)
    with pytest.raises(InputError, match="trains tensorflow models, the config asks for sklearn"):
        train_tensorflow(sklearn_config)
    assert client().get_experiment_by_name("wrong-flow") is None
