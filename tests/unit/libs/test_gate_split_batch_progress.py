"""Small pure helpers: the gate metric check, split digests, batch values, the progress bar."""

from __future__ import annotations

import pandas as pd
import pytest

from libs.datasets import Split, split_digest
from libs.errors import InputError
from libs.gate import GateSpec, check_gate_metric
from libs.progress import counting_bar
from libs.scoring import BatchSummary, ScoreResult, batch_metrics, summary_markdown


def _split(train_index: list[int], test_index: list[int]) -> Split:
    def frame(index: list[int]) -> pd.DataFrame:
        return pd.DataFrame({"x": range(len(index))}, index=index)

    return Split(
        x_train=frame(train_index),
        x_test=frame(test_index),
        y_train=pd.Series(0, index=train_index),
        y_test=pd.Series(0, index=test_index),
        stratified=False,
    )


def test_the_gate_metric_must_be_one_the_task_computes() -> None:
    # then
    assert check_gate_metric(GateSpec(), "classification") == "accuracy"
    assert check_gate_metric(GateSpec(), "regression") == "r2"
    assert check_gate_metric(GateSpec(metric="rmse"), "regression") == "rmse"
    with pytest.raises(InputError, match=r"^gate\.metric: 'rmse' is not computed for classif"):
        check_gate_metric(GateSpec(metric="rmse"), "classification")


def test_split_digests_follow_the_snapshot_the_part_and_the_rows() -> None:
    # given
    split = _split([0, 1, 2], [3, 4])
    digest = split_digest("abc", split)
    # then: short, stable, and different for each thing they name
    assert len(digest("training")) == 32  # as long as MLflow keeps a dataset digest (36 at most)
    assert digest("training") == split_digest("abc", _split([0, 1, 2], [3, 4]))("training")
    assert digest("training") != digest("testing")
    assert digest("training") != split_digest("abd", split)("training")
    assert digest("training") != split_digest("abc", _split([0, 1, 5], [3, 4]))("training")


def test_batch_metrics_without_drift_are_volume_and_speed() -> None:
    # given
    result = ScoreResult(rows=1000, seconds=2.0, output_uri="out.parquet", drift=None)
    # then
    assert batch_metrics(result) == {"rows": 1000.0, "duration_s": 2.0, "rows_per_second": 500.0}
    assert ScoreResult(rows=5, seconds=0.0, output_uri="o", drift=None).rows_per_second == 0.0


def test_the_batch_summary_says_where_the_output_went_and_what_drifted() -> None:
    # given
    def summary(flagged: list[str] | None) -> BatchSummary:
        return BatchSummary(
            rows=10,
            output_uri="s3://bucket/out.parquet",
            model_name="iris",
            model_version="3",
            model_run_id="r-model",
            run_id="r-batch",
            run_url="http://mlflow/#/runs/r-batch",
            experiment="scoring",
            seconds=0.5,
            flagged=flagged,
            ui_command="mlflow ui",
        )

    # when
    text = summary_markdown(summary(["petal_width"]))
    # then
    assert "# Batch scored: iris version 3" in text
    assert "`s3://bucket/out.parquet`" in text
    assert "[r-batch](http://mlflow/#/runs/r-batch)" in text
    assert "1 flagged (petal_width)" in text
    assert summary([]).drift_line == "none"
    assert summary(None).drift_line.startswith("not measured")


def test_a_disabled_progress_bar_draws_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    with counting_bar("scoring", 10, enabled=False) as advance:
        advance(5)
    # then
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
