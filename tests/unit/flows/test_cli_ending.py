"""What every command shares at its end (summary block, progress bar) and the flow table."""

from __future__ import annotations

import pytest

from flows.cli import print_summary
from flows.runs.train import TRAINING_FLOWS, training_flow
from libs.errors import InputError
from libs.models.spec import SklearnModelSpec, TensorflowModelSpec
from libs.progress import progress_bar


def test_the_summary_block_aligns_labelled_rows_and_keeps_plain_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # when
    print_summary("Done.", [("MLflow run", "abc"), ("Registered model", "m version 1"), "as is"])
    # then
    assert capsys.readouterr().out.splitlines() == [
        "",
        "Done.",
        "  MLflow run:       abc",
        "  Registered model: m version 1",
        "  as is",
    ]


def test_each_framework_has_one_training_flow_and_an_unknown_one_fails_naming_the_field() -> None:
    # given: the frameworks a config can name
    frameworks = {SklearnModelSpec().framework, TensorflowModelSpec().framework}
    # then
    assert set(TRAINING_FLOWS) == frameworks
    for framework in frameworks:
        assert training_flow(framework).name == f"train-{framework}"
    with pytest.raises(InputError, match=r"model\.framework"):
        training_flow("xgboost")


def test_the_progress_bar_counts_steps_and_named_fields(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    with progress_bar("points", 3, fields="failed: {task.fields[failed]}") as advance:
        advance()
        advance(2, failed=1)
    with progress_bar("rows", 5, enabled=False) as quiet:
        quiet(5)
    # then
    err = capsys.readouterr().err
    assert "points" in err and "3/3" in err and "failed: 1" in err
    assert "rows" not in err


def test_a_bar_without_a_known_total_counts_without_a_question_mark(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # when
    with progress_bar("rows", None) as advance:
        advance(569)
    # then
    err = capsys.readouterr().err
    assert "569" in err and "/?" not in err


@pytest.mark.parametrize("module", ["flows.train", "flows.sweep"])
def test_print_schema_into_a_closed_pipe_exits_0_without_a_traceback(module: str) -> None:
    # given: a pipe whose reader has gone (as `| head` leaves it)
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    # when
    done = subprocess.run(
        [sys.executable, "-m", module, "--print-schema"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env={**os.environ, "MLOPS_WARM_WORKER": "false"},
    )
    os.close(write)
    # then
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_terminal_logging_sends_console_lines_to_the_log_file_and_restores(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a logger that writes to the terminal, as Prefect's and MLflow's do
    import logging
    import sys

    from flows.cli import active_log, terminal_logging

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path))
    logger = logging.getLogger("test.terminal")
    console = logging.StreamHandler(sys.stderr)
    logger.addHandler(console)
    logger.propagate = False
    try:
        # when
        with terminal_logging("check", verbose=False) as path:
            logger.warning("a line for the file")
            assert active_log() == path
        # then: in the file, not on the terminal; the handlers are back afterwards
        assert "a line for the file" in path.read_text()
        assert "a line for the file" not in capsys.readouterr().err
        assert path.parent == tmp_path.resolve() / "logs"
        assert logger.handlers == [console] and active_log() is None
        # and: verbose prints it too, through the shared console
        with terminal_logging("check", verbose=True):
            logger.warning("a line for the screen")
        assert "a line for the screen" in capsys.readouterr().err
    finally:
        logger.removeHandler(console)


def test_bad_input_leaves_no_log_file_and_no_home(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a command whose body logs a line, then meets bad input
    import logging

    from flows.cli import run_command

    home = tmp_path / "state"
    monkeypatch.setenv("MLOPS_HOME", str(home))

    def body() -> None:
        logging.getLogger("prefect").warning("about to fail")
        raise InputError("config: model.nmae: unknown key")

    # when
    code = run_command(body, lambda _: None, what="training")
    # then: one error line, exit 2, and nothing written
    assert code == 2
    assert capsys.readouterr().err.strip() == "error: config: model.nmae: unknown key"
    assert not home.exists()


def test_an_interrupt_a_library_turned_into_another_error_is_still_the_interrupt(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a body in which Ctrl-C lands where a library catches it and raises its own
    # error instead (Prefect, when it lands while a task run starts: "Task run is not set")
    import os
    import signal
    import time

    from flows.cli import run_command

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "state"))

    def body() -> None:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the signal arrives at once; this only bounds a broken case
        except KeyboardInterrupt:
            raise ValueError("Task run is not set") from None

    # when
    code = run_command(body, lambda _: None, what="training")
    # then: the command ends as interrupted, as Ctrl-C anywhere else would end it
    assert code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "error: interrupted"
