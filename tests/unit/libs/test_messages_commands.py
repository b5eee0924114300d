"""Printed commands are shell-quoted: pasting one never runs what a path spells."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from libs.commands import mlflow_ui_command
from libs.settings import PlatformSettings


@pytest.fixture(autouse=True)
def _no_store_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings read the environment: a tracking URI left there by another test in the
    same worker would name another store than the home's."""
    for name in ("MLOPS_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLOPS_ARTIFACT_ROOT", "MLOPS_HOME"):
        monkeypatch.delenv(name, raising=False)


def test_a_home_path_with_command_substitution_is_pasted_as_a_path(tmp_path: Path) -> None:
    # given: a home folder whose name spells two commands ($(...) and backticks)
    marker = tmp_path / "ran"
    home = tmp_path / f"a b $(touch {marker}) `touch {marker}`"
    settings = PlatformSettings(home=home, mlflow_ui_url="http://127.0.0.1:5123")

    # when: the printed command is pasted into a shell (printf in place of mlflow, to
    # see the words the shell hands it)
    command = mlflow_ui_command(settings)
    words = shlex.split(command)
    pasted = subprocess.run(
        ["sh", "-c", "printf '%s\\n' " + shlex.join(words[1:])],
        capture_output=True,
        text=True,
        check=True,
    )

    # then: nothing ran, and the shell passes the store URI as one word, as written
    assert not marker.exists()
    assert pasted.stdout.splitlines() == words[1:]
    assert words[1:3] == ["ui", "--backend-store-uri"]
    assert words[3] == f"sqlite:///{home.resolve() / 'mlflow.db'}"
    assert words[-2:] == ["--port", "5123"]


def test_the_whole_printed_command_pasted_runs_nothing_but_its_program(tmp_path: Path) -> None:
    # given: the same kind of home, and the command exactly as printed
    marker = tmp_path / "ran"
    home = tmp_path / f"$(touch {marker})"
    command = mlflow_ui_command(PlatformSettings(home=home))

    # when: a shell parses it with `echo` standing in for the program
    program = shlex.split(command)[0]
    echoed = subprocess.run(
        ["sh", "-c", "echo " + command[len(shlex.quote(program)) :]],
        capture_output=True,
        text=True,
        check=True,
    )

    # then: the substitution is text in the output, not a file on disk
    assert not marker.exists()
    assert f"$(touch {marker})" in echoed.stdout


def test_a_tracking_server_is_opened_by_its_url() -> None:
    settings = PlatformSettings(tracking_uri="http://127.0.0.1:5999")
    assert mlflow_ui_command(settings) == "open http://127.0.0.1:5999"
