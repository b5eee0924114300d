"""A cross-validated sweep point fits its folds only; the completed best alone is scored on
the test split (issue 31: a point costs what an optimiser's trial costs)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow import MlflowClient

from flows.config.sweep import load_sweep_config
from flows.runs.sweep import run_sweep
from libs.settings import PlatformSettings

# A real estimator: scikit-learn's logistic regression, counting its fits per value of C.
COUNTING = textwrap.dedent(
    '''
    """Counts every fit, per value of C, in this process (the sweep's points run in threads)."""
    from sklearn.linear_model import LogisticRegression

    FITS = {}


    class CountingLogisticRegression(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            FITS[self.C] = FITS.get(self.C, 0) + 1
            return super().fit(X, y, sample_weight=sample_weight)
    '''
)

SWEEP = """
train:
  data: {{source: iris, max_rows: 90}}
  model: {{class: fitcount.CountingLogisticRegression, params: {{max_iter: 300}}}}
  tracking: {{experiment: sweep-lean-point, model_name: {model_name}}}
factors:
  - {{name: model.params.C, type: continuous, scale: log, low: 0.001, high: 10}}
design: {{kind: full_factorial, levels: 2}}
objective: {{metric: accuracy}}
cv_folds: 3
concurrency: 1
workers: threads
"""


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


@pytest.mark.slow
def test_a_cross_validated_point_fits_its_folds_and_only_the_best_is_scored_on_test(
    flow_home: Path, model_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a 2-point sweep with 3 folds, its estimator counting its fits
    code = tmp_path / "code"
    code.mkdir()
    (code / "fitcount.py").write_text(COUNTING)
    monkeypatch.syspath_prepend(str(code))
    import fitcount

    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP.format(model_name=model_name))
    # when
    summary = run_sweep(load_sweep_config(path))
    # then: every point fitted its 3 folds; the best point one more time, on the whole
    # training split, when the sweep completed it (its model and test scores)
    fits: dict[Any, int] = fitcount.FITS
    parent = client().get_run(summary.parent_run_id)
    runs = client().search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{summary.parent_run_id}'",
    )
    assert len(runs) == 2 and summary.completed == 2
    for run in runs:
        c = float(run.data.params["model.params.C"])
        best = run.info.run_id == summary.best_run_id
        assert fits[c] == (3 + 1 if best else 3), (c, best, fits)
        metrics = run.data.metrics
        # and: the cross-validated response and the cost metrics of a fold's model
        assert {"cv.accuracy", "cv.accuracy.fold3", "train_seconds", "model_size_bytes"} <= set(
            metrics
        )
        # and: only the completed best point has a test score
        assert ("accuracy" in metrics) is best
        assert bool(run.data.tags.get("sweep.model_uri")) is best
    # and: the results table says so, and the gate read the best point's test score
    local = client().download_artifacts(summary.parent_run_id, "sweep/results.csv", str(tmp_path))
    table = pd.read_csv(local).set_index("run_id")
    assert table.loc[summary.best_run_id, "test split"] == "scored (completed best)"
    other = next(r.info.run_id for r in runs if r.info.run_id != summary.best_run_id)
    assert table.loc[other, "test split"] == "untouched (cross-validated)"
    assert pd.isna(table.loc[other, "metric.accuracy"])
    assert table.loc[summary.best_run_id, "metric.accuracy"] > 0.5
    assert summary.version == "1", summary.gate_reason
