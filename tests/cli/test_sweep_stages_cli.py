"""`python -m flows.sweep --fold-over/--augment/--next`: bad input, as a user meets it.

The three-stage study itself runs in tests/flows/test_sweep_study.py (under
the Prefect test server); here the command line's arguments and its refusal
of a sweep that does not exist: one line naming the argument, exit code 2,
nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_cli


def test_an_unknown_sweep_exits_2_naming_the_argument_and_writes_nothing(tmp_path: Path) -> None:
    # given: a fresh home (no tracking store yet)
    home = tmp_path / "state"
    # when
    result = run_cli(home, "flows.sweep", "--fold-over", "0123abcd", "--on", "A")
    # then
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --fold-over: no sweep has run yet")
    assert not (home / "mlflow.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--augment", "0123abcd"], "error: --to: --augment needs the design to reach"),
        (["--augment", "x", "--to", "bbd"], "error: --to: 'bbd' is not a design to reach"),
        (["--augment", "x", "--to", "optimal"], "error: --runs: --augment --to optimal needs"),
        (
            ["--augment", "x", "--to", "optimal", "--runs", "4", "--model", "cubic"],
            "error: --model: 'cubic' is not one of linear, interactions, quadratic",
        ),
        (["--augment", "x", "--to", "ccd", "--runs", "4"], "error: --runs: only with --to optimal"),
        (["--next", "x", "--model", "quadratic"], "error: --model: 'quadratic' with --next: only"),
        (["--next", "0123abcd", "--on", "A"], "error: --on: only with --fold-over"),
        (["--fold-over", "0123abcd", "--factors", "A,B"], "error: --factors: only with --augment"),
        (
            ["--fold-over", "x", "--next", "y"],
            "error: --fold-over, --augment, --next, --path, --confirm: give one",
        ),
        (
            ["--augment", "x", "--to", "ccd", "--config", "configs/sweeps/diabetes_gbr_study.yaml"],
            "error: --config: not with --augment",
        ),
    ],
)
def test_stage_arguments_that_do_not_fit_exit_2(
    tmp_path: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the command line in this process (argument checks come before any server)
    from flows.sweep import main

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))
    # when
    code = main(args)
    # then
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)
    assert not (tmp_path / "state").exists()
