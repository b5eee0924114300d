"""A scikit-learn training run never imports TensorFlow (it is an optional extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_support import REPO, cli_env

# `python -m flows.train ...`, plus a report at interpreter exit of which frameworks loaded.
WRAPPER = """
import atexit, runpy, sys
atexit.register(lambda: print("loaded:", "tensorflow" in sys.modules, "keras" in sys.modules))
sys.argv = ["flows.train", *sys.argv[1:]]
runpy.run_module("flows.train", run_name="__main__", alter_sys=True)
"""


def test_scikit_learn_cli_run_does_not_import_tensorflow(tmp_path: Path) -> None:
    # given: a fresh platform home; the run talks to the test worker's Prefect server
    env = cli_env(tmp_path / "state")
    # when
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, "--set", "data.source=iris"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    # then: it trained and registered, and neither TensorFlow nor Keras was imported
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Registered model: iris-logistic-regression version 1" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == "loaded: False False"
