"""The Python API is as quiet as the command line by default (`flows.cli.api_logging`)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flows.cli import api_logging


def test_quiet_by_default_prefect_and_mlflow_lines_go_to_the_log_file(
    platform_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # when: Prefect and MLflow log INFO lines inside the API's logging
    with api_logging("training") as log:
        logging.getLogger("prefect.engine").info("flow run line")
        logging.getLogger("mlflow.tracking").warning("mlflow line")

    # then: none reached the terminal, both are in the log file under the home
    captured = capfd.readouterr()
    assert "flow run line" not in captured.err + captured.out
    assert "mlflow line" not in captured.err + captured.out
    assert log is not None and log.parent == platform_home.resolve() / "logs"
    text = log.read_text()
    assert "flow run line" in text and "mlflow line" in text


def test_verbose_leaves_the_lines_on_screen(
    platform_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # given: a console handler on a Prefect logger, as a notebook's logging has
    # (its own, so what earlier tests did to Prefect's logging setup does not matter)
    logger = logging.getLogger("prefect.engine")
    console = logging.StreamHandler()  # stderr
    logger.addHandler(console)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        # when: the API runs verbosely
        with api_logging("training", verbose=True) as log:
            logger.warning("shown line")
    finally:
        logger.removeHandler(console)
        logger.setLevel(level)
    # then: no log file taken over, and the line reached the screen
    assert log is None
    assert "shown line" in capfd.readouterr().err
