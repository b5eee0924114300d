"""`python -m flows.sweep --config A --config B --evaluate` judges designs before any training
(issue 34): the designs side by side, nothing written, no MLflow or Prefect run."""

from __future__ import annotations

from pathlib import Path

from cli_support import run_cli

STUDY = "configs/sweeps/diabetes_gbr_study.yaml"
DSD = "configs/sweeps/diabetes_gbr_dsd.yaml"


def test_evaluate_compares_two_designs_and_writes_nothing(tmp_path: Path) -> None:
    # given: a fresh home, two sweep configs over the same five settings
    home = tmp_path / "home"
    # when: both are evaluated through the sweep command
    result = run_cli(home, "flows.sweep", "--config", STUDY, "--config", DSD, "--evaluate")
    # then: one table with both designs, their runs and the power of their terms
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "diabetes_gbr_study" in out and "diabetes_gbr_dsd" in out
    assert "fractional_factorial" in out and "definitive_screening" in out
    assert "min power (delta=1)" in out and "D-efficiency %" in out
    # and: no store, no run, no home: nothing was trained
    assert not home.exists()


def test_evaluate_of_a_missing_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # when: a config that does not exist is evaluated
    result = run_cli(tmp_path / "home", "flows.sweep", "--config", "nope.yaml", "--evaluate")
    # then: one line naming the file, exit 2
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: config file not found: nope.yaml"]
