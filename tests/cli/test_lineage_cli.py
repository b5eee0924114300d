"""`python -m flows.lineage` and `python -m flows.train --reproduce`: the commands' own edges.

The lineage of trained versions is checked in tests/flows/test_lineage.py (in-process,
under the Prefect test server); here the commands' own edges: help, bad references,
and nothing created where nothing exists. Each command's `main` runs in this
process (`cli_support.main_in_process`), in the environment a command line gets:
none of these edges depends on the process (that a bad input exits 2 from `python
-m` is tests/cli/test_bad_input_before_imports.py's), and a subprocess cost each
command 4-8 CPU-s of imports.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import main_in_process


def test_lineage_of_an_unknown_model_is_one_line_and_creates_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: an empty platform home
    home = tmp_path / "state"
    # when
    code = main_in_process(
        monkeypatch, home, "flows.lineage", "--compare", "nope/1", "nope/2", "--json"
    )
    # then
    out, err = capsys.readouterr()
    assert code == 2, err
    assert err.strip().splitlines() == [
        f"error: model: no registered model 'nope' (no tracking store at sqlite:///{home.resolve()}/mlflow.db)"
    ]
    assert out == ""
    assert not (home / "mlflow.db").exists()


def test_lineage_refuses_a_bad_reference_and_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    bad = main_in_process(monkeypatch, tmp_path, "flows.lineage", "not a/model")
    bad_err = capsys.readouterr().err
    # (argparse's refusal: exit 2 raised as SystemExit, as `python -m` turns it)
    with pytest.raises(SystemExit) as neither:
        main_in_process(monkeypatch, tmp_path, "flows.lineage")
    neither_err = capsys.readouterr().err
    # then
    assert bad == 2
    assert bad_err.strip() == "error: model: 'not a/model' is not NAME, NAME@alias or NAME/version"
    assert neither.value.code == 2 and "give one MODEL" in neither_err


def test_reproduce_of_an_unknown_version_fails_before_any_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    home = tmp_path / "state"
    # when: the platform's default server mode (a local server in the home)
    result = main_in_process(
        monkeypatch, home, "flows.train", "--reproduce", "nope/3", MLOPS_PREFECT_SERVER=""
    )
    result_err = capsys.readouterr().err
    with pytest.raises(SystemExit) as mixed:
        main_in_process(
            monkeypatch, home, "flows.train", "--reproduce", "nope/3", "--set", "model.params.C=2"
        )
    mixed_err = capsys.readouterr().err
    with pytest.raises(SystemExit) as alone:
        main_in_process(monkeypatch, home, "flows.train", "--allow-data-change")
    alone_err = capsys.readouterr().err
    # then
    assert result == 2
    assert (
        result_err.strip().splitlines()[-1].startswith("error: model: no registered model 'nope'")
    )
    assert not (home / "serve").exists()  # no local Prefect server was started
    assert mixed.value.code == 2 and "no --config or --set with it" in mixed_err
    assert alone.value.code == 2 and "--allow-data-change goes with --reproduce" in alone_err
