"""Bring your own model: XGBoost, LightGBM and your own estimator, transformer and metric,
trained through the real training flow and gate, then loaded where your code is absent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flows.config.predict import PredictConfig
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.predict import batch_predict
from libs.datasets import load_bundled
from libs.io import read_table
from libs.settings import PlatformSettings

pytest.importorskip("xgboost", reason="xgboost (the boost extra) is missing")
pytest.importorskip("lightgbm", reason="lightgbm (the boost extra) is missing")

USER_CODE = textwrap.dedent(
    '''
    """A team's own code, in a folder of its own (not installed, not in the checkout)."""
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin


    class NearestMean(ClassifierMixin, BaseEstimator):
        """Predicts the class whose mean row is nearest; `shrink` pulls means to 0."""

        def __init__(self, shrink=0.0, seed=0):
            self.shrink = shrink
            self.seed = seed

        def fit(self, X, y):
            X, y = np.asarray(X, dtype=float), np.asarray(y)
            self.classes_ = np.unique(y)
            self.means_ = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
            self.means_ = self.means_ * (1.0 - self.shrink)
            return self

        def predict(self, X):
            X = np.asarray(X, dtype=float)
            distances = ((X[:, None, :] - self.means_[None, :, :]) ** 2).sum(axis=2)
            return self.classes_[distances.argmin(axis=1)]


    class RowSum(TransformerMixin, BaseEstimator):
        """One feature: the scaled sum of the columns it is given."""

        def __init__(self, scale=1.0):
            self.scale = scale

        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return (np.asarray(X, dtype=float).sum(axis=1) * self.scale).reshape(-1, 1)


    def hit_rate(y_true, y_pred):
        return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    '''
)

LOAD_AND_PREDICT = textwrap.dedent(
    """
    import importlib.util, json, sys
    import mlflow, pandas as pd
    absent = importlib.util.find_spec("teamcode") is None
    model = mlflow.pyfunc.load_model(sys.argv[1])
    rows = pd.read_json(sys.argv[2], orient="split")
    print(json.dumps({"absent": absent, "predictions": [int(p) for p in model.predict(rows)]}))
    """
)


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def requirements_of(model_uri: str) -> str:
    mlflow.set_tracking_uri(PlatformSettings().resolved_tracking_uri)
    folder = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    return (Path(folder) / "requirements.txt").read_text()


@pytest.mark.slow
def test_xgboost_with_early_stopping_trains_registers_and_scores(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given: an XGBoost classifier by import path, stopping on 20% of the training rows
    config = load_train_config(
        None,
        [
            f"tracking.model_name={model_name}",
            "model.class=xgboost.XGBClassifier",
            "model.params={n_estimators: 200, max_depth: 2, learning_rate: 0.3, n_jobs: 1}",
            "model.early_stopping={validation_fraction: 0.2, rounds: 5}",
        ],
    )
    # when
    summary = train_sklearn(config)
    # then: through the gate as champion, with the seed and its package recorded
    assert summary.version == "1" and summary.champion, summary.gate_reason
    assert summary.metrics["accuracy"] > 0.9
    run = client().get_run(summary.run_id)
    assert run.data.params["model.class"] == "xgboost.XGBClassifier"
    assert run.data.tags["model.code_packages"].startswith("xgboost")
    assert "xgboost" in requirements_of(summary.model_uri)
    # and: the report shows the model's own importances
    assert "Model feature importance" in Path(summary.report_uri).read_text()
    # and: batch scoring of raw rows gives the registered model's predictions
    rows = load_bundled("breast_cancer").drop(columns=["target"]).head(40)
    source, output = tmp_path / "rows.csv", tmp_path / "scored.csv"
    rows.to_csv(source, index=False)
    batch_predict(PredictConfig(model=model_name, input=str(source), output=str(output)))
    model = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    assert list(read_table(str(output))["prediction"]) == list(model.predict(rows))


@pytest.mark.slow
def test_lightgbm_regressor_with_early_stopping_trains_and_predicts_raw_rows(
    flow_home: Path, model_name: str
) -> None:
    # given: LightGBM on diabetes (a regression task), early stopping on 10% of training rows
    config = load_train_config(
        None,
        [
            "data.source=diabetes",
            f"tracking.model_name={model_name}",
            "model.class=lightgbm.LGBMRegressor",
            "model.params={n_estimators: 300, num_leaves: 7, n_jobs: 1}",
            "model.early_stopping.rounds=10",
        ],
    )
    # when
    summary = train_sklearn(config)
    # then
    assert summary.version == "1" and summary.champion, summary.gate_reason
    assert summary.metrics["r2"] > 0.2
    assert "lightgbm==" in requirements_of(summary.model_uri)
    model = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    rows = load_bundled("diabetes").drop(columns=["target"]).head(7)
    assert len(model.predict(rows)) == 7


@pytest.mark.slow
def test_own_estimator_transformer_and_metric_load_where_their_folder_is_absent(
    flow_home: Path, model_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the team's module in a folder outside the checkout, on this process's path only
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "teamcode.py").write_text(USER_CODE)
    monkeypatch.syspath_prepend(str(folder))
    config = load_train_config(
        None,
        [
            "data.source=iris",
            f"tracking.model_name={model_name}",
            "model.class=teamcode.NearestMean",
            "model.params.shrink=0.0",
            "features.custom=[{class: teamcode.RowSum, columns: [petal_length_(cm), "
            "petal_width_(cm)], params: {scale: 0.5}}]",
            "metrics.custom=[teamcode.hit_rate]",
        ],
    )
    # when
    summary = train_sklearn(config)
    # then: the run went through the gate, with the metric and the code recorded
    assert summary.version == "1" and summary.champion, summary.gate_reason
    assert summary.metrics["hit_rate"] == pytest.approx(summary.metrics["accuracy"])
    assert summary.metrics["accuracy"] > 0.8
    run = client().get_run(summary.run_id)
    assert run.data.tags["model.code"] == "teamcode"
    # and: a fresh interpreter, elsewhere and without the folder, loads it and predicts
    rows = load_bundled("iris").drop(columns=["target"]).iloc[[0, 60, 120]]
    rows_file = tmp_path / "rows.json"
    rows.to_json(rows_file, orient="split")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLOPS_HOME")}
    env["MLFLOW_TRACKING_URI"] = PlatformSettings().resolved_tracking_uri
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, f"models:/{model_name}@champion", str(rows_file)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["absent"] is True
    assert answer["predictions"] == [0, 1, 2]


@pytest.mark.slow
def test_lineage_shows_the_model_code(flow_home: Path, model_name: str) -> None:
    # given: a LightGBM classifier trained by import path
    summary = train_sklearn(
        load_train_config(
            None,
            [
                f"tracking.model_name={model_name}",
                "model.class=lightgbm.LGBMClassifier",
                "model.params={n_estimators: 20, n_jobs: 1}",
            ],
        )
    )
    # when
    from flows.lineage import lineage_of, with_model_code
    from libs.lineage import render_show

    record = lineage_of(f"{model_name}/{summary.version}", PlatformSettings(), None)
    text = with_model_code(render_show(record), record)
    # then
    assert record["code"]["model_code"] == "lightgbm.sklearn"
    assert "Model packages:" in text and "lightgbm==" in text
