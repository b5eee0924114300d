"""`python -m flows.sweep` run exactly as a user would, in a subprocess.

The refusals and the schema run the command's `main` in this process
(`cli_support.main_in_process`): what they print does not depend on the process,
and a subprocess cost each 5-6 CPU-s of imports (that bad input exits 2 from
`python -m` before Prefect and MLflow are imported is
tests/cli/test_bad_input_before_imports.py's).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import main_in_process, run_cli
from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[2]

TINY = """
train:
  data: {source: iris, max_rows: 120}
  model: {name: logistic_regression}
  gate: {metric: accuracy, threshold: 0.5}
  tracking: {experiment: cli-sweep, model_name: cli-sweep-model}
factors:
  - {name: model.params.C, type: continuous, scale: log, low: 0.01, high: 10}
  - {name: model.params.fit_intercept, type: categorical, levels: [true, false]}
design: {kind: full_factorial}
objective: {metric: accuracy}
"""


def test_cli_runs_the_screening_sweep_and_prints_what_it_found(tmp_path: Path) -> None:
    # given: the shipped screening sweep (4 points) on a 120-row sample
    home = tmp_path / "state"
    # when
    result = run_cli(
        home,
        "flows.sweep",
        "--config",
        "configs/sweeps/wine_rf_screening.yaml",
        "--set",
        "train.data.max_rows=120",
    )
    # then
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Sweep complete." in out
    assert "Parent MLflow run: " in out and "(experiment 'sweeps')" in out
    assert "Design:            plackett_burman, 4 points: 4 trained, 0 reused, 0 failed" in out
    assert "Objective:         maximize f1_macro" in out
    effects = out.split("Top effects:       ")[1].splitlines()[0]
    assert effects and "model.params." not in effects  # short names (issue 33)
    first = out.split("Sweep complete.\n")[1].splitlines()[0]
    assert first.strip().startswith("Learned:"), first  # what was learned comes first
    assert "Fitted optimum:    none" in out
    assert "Best point:        #" in out
    assert "Registered model:  wine-random-forest version 1" in out
    assert "Champion:          yes" in out
    assert f"mlflow ui --backend-store-uri sqlite:///{home.resolve()}/mlflow.db" in out
    # and: the progress bar went to stderr, not into the summary
    assert "4/4" in result.stderr and "failed: 0" in result.stderr
    assert "4/4" not in out
    # and: the points trained in worker processes (concurrency 2), not in the sweep's own
    parent_id = out.split("Parent MLflow run: ")[1].split()[0]
    store = MlflowClient(f"sqlite:///{home.resolve()}/mlflow.db")
    parent = store.get_run(parent_id)
    points = store.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    sweep_pid = parent.data.tags["process.pid"]
    worker_pids = {r.data.tags.get("process.worker_pid") for r in points}
    assert len(points) == 4
    assert {r.data.tags["process.pid"] for r in points} == {sweep_pid}  # the owner
    assert None not in worker_pids and sweep_pid not in worker_pids
    assert 1 <= len(worker_pids) <= 2
    # and: each point's flow run (created in its worker process) is named by its point
    names = sorted(r.data.tags["prefect.flow_run_name"] for r in points)
    assert [n.split(" ")[0] for n in names] == ["point-0", "point-1", "point-2", "point-3"]
    assert all("n_estimators=" in n and "max_depth=" in n for n in names), names


def test_cli_bad_factor_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a factor whose path is not a training config field
    home = tmp_path / "state"
    config = tmp_path / "bad.yaml"
    config.write_text(TINY.replace("model.params.fit_intercept", "model.fit_intercept"))
    # when
    code = main_in_process(monkeypatch, home, "flows.sweep", "--config", str(config))
    # then
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {config}: factor 'model.fit_intercept' (point 0")
    assert lines[0].endswith("model.fit_intercept: unknown key")
    assert not home.exists()


def test_cli_unknown_metric_override_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    home = tmp_path / "state"
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    # when
    code = main_in_process(
        monkeypatch,
        home,
        "flows.sweep",
        "--config",
        str(config),
        "--set",
        "objective.metric=acuracy",
    )
    # then
    assert code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .startswith(f"error: {config}: objective.metric: unknown metric 'acuracy'; known metrics: ")
    )
    assert not home.exists()


def test_cli_prints_the_sweep_config_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main_in_process(monkeypatch, tmp_path / "state", "flows.sweep", "--print-schema")
    assert code == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"base", "train", "factors", "design", "objective", "concurrency", "mode"} <= set(
        schema["properties"]
    )
    assert not (tmp_path / "state").exists()
