"""`python -m flows.lineage` and `python -m flows.train --reproduce` as a user runs them.

The lineage of trained versions is checked in tests/flows/test_lineage.py (in-process,
under the Prefect test server); here the commands' own edges: help, bad references,
and nothing created where nothing exists.
"""

from __future__ import annotations

from pathlib import Path

from cli_support import run_cli


def test_lineage_of_an_unknown_model_is_one_line_and_creates_no_store(tmp_path: Path) -> None:
    # given: an empty platform home
    home = tmp_path / "state"
    # when
    result = run_cli(home, "flows.lineage", "--compare", "nope/1", "nope/2", "--json")
    # then
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: model: no registered model 'nope' (no tracking store at sqlite:///{home.resolve()}/mlflow.db)"
    ]
    assert result.stdout == ""
    assert not (home / "mlflow.db").exists()


def test_lineage_refuses_a_bad_reference_and_a_missing_one(tmp_path: Path) -> None:
    # when
    bad = run_cli(tmp_path, "flows.lineage", "not a/model")
    neither = run_cli(tmp_path, "flows.lineage")
    # then
    assert bad.returncode == 2
    assert (
        bad.stderr.strip() == "error: model: 'not a/model' is not NAME, NAME@alias or NAME/version"
    )
    assert neither.returncode == 2 and "give one MODEL" in neither.stderr


def test_reproduce_of_an_unknown_version_fails_before_any_server_starts(tmp_path: Path) -> None:
    # given
    home = tmp_path / "state"
    # when
    result = run_cli(home, "flows.train", "--reproduce", "nope/3", temporary_server=False)
    mixed = run_cli(home, "flows.train", "--reproduce", "nope/3", "--set", "model.params.C=2")
    alone = run_cli(home, "flows.train", "--allow-data-change")
    # then
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: model: no registered model 'nope'")
    )
    assert not (home / "serve").exists()  # no local Prefect server was started
    assert mixed.returncode == 2 and "no --config or --set with it" in mixed.stderr
    assert alone.returncode == 2 and "--allow-data-change goes with --reproduce" in alone.stderr
