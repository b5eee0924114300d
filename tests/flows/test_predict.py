"""Batch scoring under the Prefect test server, with a model trained in the session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from prefect.artifacts import Artifact

from flows.config.predict import PredictConfig
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.predict import batch_predict
from libs.errors import InputError
from libs.io import parquet_metadata, read_table
from libs.settings import PlatformSettings

MODEL = "t-predict-customers"
CUSTOMERS = Path(__file__).resolve().parents[2] / "configs" / "data" / "customers.csv"


@dataclass(frozen=True)
class Trained:
    name: str
    version: str
    run_id: str


@pytest.fixture(scope="module")
def trained(shared_home: Path) -> Iterator[Trained]:
    """One customers model (numeric, categorical, datetime inputs) for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_HOME", str(shared_home))
        for name in (
            "MLOPS_TRACKING_URI",
            "MLOPS_STORAGE",
            "MLOPS_STORAGE_BLOCK",
            "MLOPS_ARTIFACT_ROOT",
            "MLFLOW_TRACKING_URI",
        ):
            patch.delenv(name, raising=False)
        summary = train_sklearn(
            load_train_config(
                "configs/customers_csv.yaml",
                [
                    f"tracking.model_name={MODEL}",
                    "model.params.n_estimators=20",
                    "gate.threshold=0.5",
                ],
            )
        )
    assert summary.champion, summary.gate_reason
    yield Trained(name=MODEL, version=str(summary.version), run_id=summary.run_id)


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def pyfunc_predictions(rows: pd.DataFrame) -> list:
    mlflow.set_tracking_uri(PlatformSettings().resolved_tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    return list(model.predict(rows.drop(columns=["churned"])))


def runs_for_input(uri: str) -> list:
    experiment = client().get_experiment_by_name("inference")
    if experiment is None:
        return []
    return client().search_runs(
        [experiment.experiment_id], filter_string=f"tags.`input.uri` = '{uri}'"
    )


def test_scores_like_pyfunc_and_records_model_run_and_drift(
    flow_home: Path, trained: Trained, tmp_path: Path
) -> None:
    # given: an unshifted sample of the training data, as CSV
    rows = pd.read_csv(CUSTOMERS).sample(200, random_state=3)
    source = tmp_path / "batch.csv"
    rows.to_csv(source, index=False)
    output = tmp_path / "scored.parquet"
    # when
    summary = batch_predict(
        PredictConfig(model=MODEL, input=str(source), output=str(output), chunk_rows=64)
    )
    # then: predictions equal the registered model's own, row for row
    scored = read_table(str(output))
    assert len(scored) == summary.rows == 200
    assert list(scored["prediction"]) == pyfunc_predictions(rows)
    # and: the output says which model made them, as columns and Parquet metadata
    assert set(scored["model_name"]) == {MODEL}
    assert set(scored["model_version"]) == {trained.version}
    assert set(scored["model_run_id"]) == {trained.run_id}
    assert parquet_metadata(str(output)) == {
        "mlops.model_name": MODEL,
        "mlops.model_version": trained.version,
        "mlops.model_run_id": trained.run_id,
    }
    # and: one finished inference run with the input, metrics and drift report
    run = client().get_run(summary.run_id)
    assert run.info.status == "FINISHED"
    assert client().get_experiment(run.info.experiment_id).name == "inference"
    assert run.data.tags["model.run_id"] == trained.run_id
    (dataset,) = run.inputs.dataset_inputs
    assert str(source) in dataset.dataset.source
    assert run.data.tags["input.sha256"].startswith(dataset.dataset.digest)
    assert [t.value for t in dataset.tags if t.key == "mlflow.data.context"] == ["inference"]
    assert run.data.metrics["rows"] == 200
    assert run.data.metrics["rows_per_second"] > 0
    assert run.data.metrics["duration_s"] > 0
    assert "drift.psi.income" in run.data.metrics and "drift.ks.age" in run.data.metrics
    artifacts = {a.path for a in client().list_artifacts(summary.run_id, "drift")}
    assert artifacts == {"drift/drift.csv", "drift/drift_report.html"}
    # and: the unshifted sample is not flagged
    assert summary.flagged == []
    assert run.data.tags["drift.flagged"] == "none"
    # and: drift covers the model's inputs only (the config drops customer_id), the signup
    # date as a date; the summary names the report, a file beside the data (issue 35)
    table = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{summary.run_id}/drift/drift.csv")
    )
    kinds = dict(zip(table["feature"], table["kind"], strict=True))
    assert "customer_id" not in kinds and "churned" not in kinds
    assert kinds["signup_date"] == "date" and kinds["plan"] == "categorical"
    assert "drift.ks.signup_date" in run.data.metrics
    assert Path(summary.drift_report).is_file()
    assert run.data.tags["drift.report_uri"] == summary.drift_report
    # and: a markdown summary of the batch in Prefect
    artifact = Artifact.get(f"{MODEL}-batch-summary")
    assert artifact is not None and artifact.type == "markdown"
    assert f"| output | `{output}` |" in str(artifact.data)
    assert summary.run_id in str(artifact.data)


def test_shifted_feature_is_flagged_in_the_run_and_report(
    flow_home: Path, trained: Trained, tmp_path: Path
) -> None:
    # given: income three times what the model was trained on
    rows = pd.read_csv(CUSTOMERS)
    source = tmp_path / "shifted.parquet"
    rows.assign(income=rows["income"] * 3).to_parquet(source, index=False)
    # when
    summary = batch_predict(
        PredictConfig(
            model=f"{MODEL}/{trained.version}",
            input=str(source),
            output=str(tmp_path / "scored.csv"),
        )
    )
    # then
    assert summary.flagged == ["income"]
    run = client().get_run(summary.run_id)
    assert run.data.tags["drift.flagged"] == "income"
    assert run.data.metrics["drift.psi.income"] > 0.2 > run.data.metrics["drift.psi.age"]
    html = mlflow.artifacts.load_text(f"runs:/{summary.run_id}/drift/drift_report.html")
    assert "income: training vs input" in html


def test_chunked_scoring_equals_one_pass(flow_home: Path, trained: Trained, tmp_path: Path) -> None:
    # given: an input ten times larger than one chunk
    rows = pd.read_csv(CUSTOMERS)
    source = tmp_path / "batch.parquet"
    rows.to_parquet(source, index=False)
    # when
    for name, chunk_rows in (("chunked", 37), ("whole", 100_000)):
        batch_predict(
            PredictConfig(
                model=MODEL,
                input=str(source),
                output=str(tmp_path / f"{name}.parquet"),
                chunk_rows=chunk_rows,
            )
        )
    # then
    chunked = read_table(str(tmp_path / "chunked.parquet"))
    whole = read_table(str(tmp_path / "whole.parquet"))
    pd.testing.assert_frame_equal(chunked, whole)
    assert list(chunked["prediction"]) == pyfunc_predictions(rows)


def test_missing_and_mistyped_columns_fail_before_any_run_or_output(
    flow_home: Path, trained: Trained, tmp_path: Path
) -> None:
    # given: no income column, and text where age should be a number
    rows = pd.read_csv(CUSTOMERS).drop(columns=["income"]).assign(age="old")
    source = tmp_path / "bad.csv"
    rows.to_csv(source, index=False)
    output = tmp_path / "scored.parquet"
    # when
    with pytest.raises(InputError) as caught:
        batch_predict(PredictConfig(model=MODEL, input=str(source), output=str(output)))
    # then
    assert str(caught.value) == (
        f"{source}: does not match the model's signature: missing columns: income; "
        "mistyped columns: age (expected double, found str)"
    )
    assert not output.exists()
    assert runs_for_input(str(source)) == []


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (f"{MODEL}@staging", f"model: registered model '{MODEL}' has no alias 'staging'"),
        (f"{MODEL}/99", f"model: registered model '{MODEL}' has no version 99"),
        ("t-no-such-model", "model: no registered model 't-no-such-model'"),
    ],
)
def test_unknown_model_alias_or_version_is_an_input_error(
    flow_home: Path, trained: Trained, tmp_path: Path, model: str, message: str
) -> None:
    output = tmp_path / "scored.csv"
    with pytest.raises(InputError) as caught:
        batch_predict(PredictConfig(model=model, input=str(CUSTOMERS), output=str(output)))
    assert str(caught.value) == message
    assert not output.exists()


def test_empty_input_is_an_input_error(flow_home: Path, trained: Trained, tmp_path: Path) -> None:
    source = tmp_path / "empty.csv"
    source.write_text(pd.read_csv(CUSTOMERS).head(0).to_csv(index=False))
    output = tmp_path / "scored.csv"
    with pytest.raises(InputError, match=r"empty\.csv: table is empty"):
        batch_predict(PredictConfig(model=MODEL, input=str(source), output=str(output)))
    assert not output.exists()
    assert runs_for_input(str(source)) == []
