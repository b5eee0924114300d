"""The training summary says what matters: the gate's metric, its decision, three key metrics."""

from __future__ import annotations

import pytest

from flows.train import metric_rows, summary_rows
from libs.shown import key_metrics, number
from tasks.report import RunSummary, summary_markdown

# What an iris run logs: 11 classification metrics plus the cost metrics.
LOGGED = {
    "accuracy": 0.9666666666666667,
    "balanced_accuracy": 0.9666666666666667,
    "precision_macro": 0.9696969696969697,
    "recall_macro": 0.9666666666666667,
    "f1_macro": 0.9665831244778613,
    "precision_weighted": 0.9696969696969696,
    "recall_weighted": 0.9666666666666667,
    "f1_weighted": 0.9665831244778613,
    "mcc": 0.9515873026942034,
    "roc_auc": 0.9983333333333334,
    "log_loss": 0.0812,
    "train_seconds": 0.0842113,
    "predict_ms_per_row": 0.00123,
    "model_size_bytes": 1224.0,
}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1224.0, "1224"),
        (0.9666666666666667, "0.9667"),
        (12.34567, "12.35"),
        (3, "3"),
        (0.000123456, "0.0001235"),
        (float("nan"), "nan"),
    ],
)
def test_numbers_keep_the_digits_that_mean_something(value: float, shown: str) -> None:
    assert number(value) == shown


def test_the_summary_shows_the_primary_metric_and_three_key_ones_not_fifteen() -> None:
    # when
    rows = dict(metric_rows(LOGGED, "accuracy"))

    # then: the gate's metric first, three key metrics, and where the rest are
    assert rows["Primary metric"] == "accuracy=0.9667"
    assert rows["Key metrics"] == (
        "f1_macro=0.9666, roc_auc=0.9983, log_loss=0.0812 "
        "(+10 more in the MLflow run and the report)"
    )
    assert "model_size_bytes" not in " ".join(rows.values())


def test_a_regression_gate_on_rmse_shows_rmse_first_and_r2_among_the_key_ones() -> None:
    metrics = {"rmse": 53.123, "mae": 42.9, "r2": 0.4526, "mape": 0.37, "train_seconds": 0.2}
    assert dict(metric_rows(metrics, "rmse"))["Primary metric"] == "rmse=53.12"
    assert [name for name, _ in key_metrics(metrics, "rmse")] == ["r2", "mae", "mape"]


def test_summary_rows_name_the_gate_decision_and_no_wall_of_metrics() -> None:
    # given: a run summary as the training flow returns it (no server runs: no links)
    summary = RunSummary(
        run_id="r1",
        run_url="http://127.0.0.1:9/#/experiments/1/runs/r1",
        experiment="iris",
        model_name="iris-rf",
        version="2",
        champion=False,
        gate_reason="accuracy 0.9667 passes >= 0.9; does not beat champion v1",
        metrics=LOGGED,
        report_uri="/tmp/report.html",
        ui_command="mlflow ui --port 9",
        primary_metric="accuracy",
    )

    # when
    rows = dict(summary_rows(summary))

    # then
    assert rows["Champion"] == "no (accuracy 0.9667 passes >= 0.9; does not beat champion v1)"
    assert rows["Primary metric"] == "accuracy=0.9667"
    assert "Metrics" not in rows
    assert rows["Run page"].startswith("mlflow ui --port 9  # ")
    # and: the Prefect artifact's table prints sizes as whole numbers
    assert "| model_size_bytes | 1224 |" in summary_markdown(summary)
