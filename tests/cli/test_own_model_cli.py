"""Your own model from the command line: bad input refused before any run, and a sweep
over XGBoost's parameters."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_support import run_cli
from mlflow import MlflowClient

pytest.importorskip("xgboost", reason="xgboost (the boost extra) is missing")

TEAM_CODE = textwrap.dedent(
    """
    def not_a_number(y_true, y_pred):
        return None

    """
)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            ["model.class=nopkg_absent.models.Net"],
            "error: config: model.class: cannot import 'nopkg_absent.models.Net': no module named "
            "'nopkg_absent' (searched the current directory, PYTHONPATH and installed packages)",
        ),
        (
            ["metrics.custom=[cli_team_code.not_a_number]"],
            "error: config: metrics.custom.0: 'cli_team_code.not_a_number' returned NoneType "
            "None, not a number",
        ),
    ],
)
def test_bad_own_code_exits_2_with_one_line_before_any_run(
    tmp_path: Path, overrides: list[str], expected: str
) -> None:
    # given: the team's module on PYTHONPATH
    # (other refusals: tests/unit/libs/test_own_model_unit.py)
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "cli_team_code.py").write_text(TEAM_CODE)
    home = tmp_path / "state"
    args = [a for o in overrides for a in ("--set", o)]
    # when
    result = run_cli(home, "flows.train", *args, PYTHONPATH=str(folder))
    # then: one line naming the field and the path; no store, no run
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().startswith(expected)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not home.exists()


SWEEP = """
train:
  data: {source: breast_cancer, max_rows: 200}
  model:
    class: xgboost.XGBClassifier
    params: {n_estimators: 20, n_jobs: 1}
  tracking: {experiment: own-model-sweep, model_name: own-model-xgb}
factors:
  - {name: model.params.max_depth, type: integer, low: 1, high: 3}
  - {name: model.params.learning_rate, type: continuous, scale: log, low: 0.05, high: 0.5}
design: {kind: full_factorial}
objective: {metric: accuracy}
concurrency: 1
"""


@pytest.mark.slow
def test_a_sweep_over_xgboost_parameters_runs(tmp_path: Path) -> None:
    # given: a 2x2 design over two XGBoost parameters
    config = tmp_path / "sweep.yaml"
    config.write_text(SWEEP)
    home = tmp_path / "state"
    # when
    result = run_cli(home, "flows.sweep", "--config", str(config))
    # then
    assert result.returncode == 0, result.stderr[-3000:]
    assert "4 points: 4 trained, 0 reused, 0 failed" in result.stdout
    assert "Registered model:  own-model-xgb version 1" in result.stdout
    store = MlflowClient(f"sqlite:///{home.resolve()}/mlflow.db")
    experiment = store.get_experiment_by_name("own-model-sweep")
    runs = store.search_runs([experiment.experiment_id])
    depths = {r.data.params.get("model.params.max_depth") for r in runs} - {None}
    assert depths == {"1", "3"}
    assert {r.data.params.get("model.class") for r in runs} - {None} == {"xgboost.XGBClassifier"}
