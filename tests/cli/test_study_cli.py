"""`python -m flows.sweep --confirm/--path/--next --model gp`: bad input, as a user meets it.

The stages themselves run in tests/flows/test_study_stages.py; here their
arguments: one line naming the argument, exit code 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_cli


def test_confirming_an_unknown_sweep_exits_2_naming_the_argument(tmp_path: Path) -> None:
    # given: a fresh home (no tracking store yet)
    home = tmp_path / "state"
    # when
    result = run_cli(home, "flows.sweep", "--confirm", "0123abcd", "--runs", "2")
    # then
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --confirm: no sweep has run yet")
    assert not (home / "mlflow.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--fold-over", "x", "--runs", "3"],
            "error: --runs: only with --confirm, --next --model gp or --augment --to optimal",
        ),
        (["--confirm", "x", "--runs", "0"], "error: --runs: at least 1, got 0"),
        (["--confirm", "x", "--steps", "3"], "error: --steps: only with --path"),
        (["--path", "x", "--steps", "0"], "error: --steps: at least 1, got 0"),
        (["--model", "gp"], "error: --model: only with --next"),
        (
            ["--path", "x", "--confirm", "y"],
            "error: --fold-over, --augment, --next, --path, --confirm",
        ),
        (
            ["--confirm", "x", "--config", "configs/sweeps/diabetes_gbr_study.yaml"],
            "error: --config: not with --confirm",
        ),
    ],
)
def test_study_arguments_that_do_not_fit_exit_2_and_write_nothing(
    tmp_path: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the command line in this process, a fresh home (no tracking store yet)
    from flows.sweep import main

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    # when
    code = main(args)
    # then
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message), err
    assert not (tmp_path / "state" / "mlflow.db").exists()
