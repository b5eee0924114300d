"""The Python API is as quiet as the command line (issue 35): a notebook's cell shows the
returned summary, not every Prefect and MLflow INFO line; `verbose=True` shows them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import REPO, cli_env

SCRIPT = """
from flows.api import train
summary = train(overrides=["data.source=iris", "tracking.model_name=quiet-api"], verbose={v})
print("RUN", summary.run_id)
"""


def _train(home: Path, verbose: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(v=verbose)],
        cwd=REPO,
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_api_training_prints_no_log_lines_unless_verbose(tmp_path: Path) -> None:
    # when: a model is trained from Python, quietly, then verbosely
    quiet = _train(tmp_path / "quiet", verbose=False)
    loud = _train(tmp_path / "loud", verbose=True)
    # then: both trained
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert loud.returncode == 0, loud.stderr[-3000:]
    assert "RUN " in quiet.stdout
    # and: quietly, no Prefect task-run line reached the terminal; they are in the log file
    assert "Finished in state" not in quiet.stdout + quiet.stderr
    logs = list((tmp_path / "quiet" / "logs").glob("training-*.log"))
    assert logs and "Finished in state" in logs[0].read_text()
    # and: verbosely, they are on the terminal as Prefect prints them
    assert "Finished in state" in loud.stdout + loud.stderr
