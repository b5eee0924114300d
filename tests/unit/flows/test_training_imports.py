"""What a training process imports: every command line, flow-run process and point worker
pays for it (issue 29: about 1 CPU-s a process for the DOE statistics alone)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow  # a fresh interpreter importing Prefect, MLflow and scikit-learn: seconds
def test_the_training_flow_imports_no_doe_statistics_and_no_serving() -> None:
    # given: a fresh interpreter, so modules loaded by other tests do not count
    code = (
        "import sys, flows.train, flows.runs.train, flows.runs.pipeline; "
        "print(sorted(m for m in ('libs.doe', 'statsmodels', 'libs.serving', 'tensorflow') "
        "if m in sys.modules))"
    )
    # when
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    # then: the sweep's statistics and the model server load only where they are used
    assert done.stdout.strip() == "[]"
