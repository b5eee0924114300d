"""Every command takes the same output flags: `--no-progress` and `-v/--verbose` (issue 35).

Parsed only: no run, no server; a command that draws no bar accepts `--no-progress` too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import pytest

from flows import lineage, predict, sweep, train

COMMANDS: dict[str, tuple[Callable[[Sequence[str] | None], argparse.Namespace], list[str]]] = {
    "train": (train.parse_args, []),
    "sweep": (sweep.parse_args, ["--config", "configs/sweeps/wine_rf_screening.yaml"]),
    "predict": (predict.parse_args, ["--model", "m", "--input", "a.csv", "--output", "b.csv"]),
    "lineage": (lineage.parse_args, ["m"]),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("flags", [["--no-progress", "-v"], ["--no-progress", "--verbose"], []])
def test_every_command_takes_the_same_output_flags(name: str, flags: list[str]) -> None:
    # given
    parse, required = COMMANDS[name]
    # when
    args = parse([*required, *flags])
    # then
    assert args.no_progress is ("--no-progress" in flags)
    assert args.verbose is bool(flags)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_lists_both_flags(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # when
    with pytest.raises(SystemExit):
        COMMANDS[name][0](["--help"])
    # then
    out = capsys.readouterr().out
    assert "--no-progress" in out and "-v, --verbose" in out
