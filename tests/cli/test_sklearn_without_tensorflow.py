"""A scikit-learn training run never imports TensorFlow (it is an optional extra)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# `python -m flows.train ...`, plus a report at interpreter exit of which frameworks loaded.
WRAPPER = """
import atexit, runpy, sys
atexit.register(lambda: print("loaded:", "tensorflow" in sys.modules, "keras" in sys.modules))
sys.argv = ["flows.train", *sys.argv[1:]]
runpy.run_module("flows.train", run_name="__main__", alter_sys=True)
"""


def test_scikit_learn_cli_run_does_not_import_tensorflow(tmp_path: Path) -> None:
    # given: a fresh platform home and a temporary Prefect server that leaves nothing running
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(
        MLOPS_HOME=str(tmp_path / "state"),
        MLOPS_PREFECT_SERVER="temporary",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
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
