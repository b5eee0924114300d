"""A training process killed between evaluate and register: nothing registered, nothing stuck."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient
from reliability_support import REPO, cli_env, sqlite_rows, store_uri

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn

# Ten classes of 8x8 images: the report (per-class plots) and model logging that follow
# the metrics take seconds, long enough to land a kill between evaluate and register,
# while a small forest keeps the training itself short.
OVERRIDES = (
    "data.source=digits",
    "data.max_rows=600",
    "model.name=random_forest",
    "model.params.n_estimators=10",
    "tracking.model_name=crash-digits",
)
EVALUATED = (
    "SELECT r.run_uuid FROM runs r WHERE r.status = 'RUNNING' AND EXISTS "
    "(SELECT 1 FROM metrics m WHERE m.run_uuid = r.run_uuid AND m.key = 'accuracy')"
)


def start_training(home: Path) -> subprocess.Popen[bytes]:
    """`python -m flows.train` in a process group of its own (with its temporary server)."""
    args = [a for o in OVERRIDES for a in ("--set", o)]
    return subprocess.Popen(
        [sys.executable, "-m", "flows.train", *args],
        cwd=REPO,
        env=cli_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_once_evaluated(proc: subprocess.Popen[bytes], db: Path, timeout: float = 300) -> str:
    """Poll the store every 50 ms; SIGKILL the process group once the run has its metrics."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            found = sqlite_rows(db, EVALUATED)
            if found:
                os.killpg(proc.pid, signal.SIGKILL)
                return str(found[0][0])
            time.sleep(0.05)
        raise AssertionError(f"the run never reached evaluation (exit code {proc.poll()})")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.flow
@pytest.mark.slow
def test_killed_run_registers_nothing_and_the_next_run_cleans_up(fresh_home: Path) -> None:
    # given: a training run killed (SIGKILL, no cleanup possible) after its metrics were logged
    home = fresh_home
    proc = start_training(home)
    killed_run = kill_once_evaluated(proc, home / "mlflow.db")
    client = MlflowClient(store_uri(home))
    left = client.get_run(killed_run)
    assert left.info.status == "RUNNING"  # what the dead process left behind
    assert left.data.tags["process.pid"] == str(proc.pid)
    assert client.search_model_versions("name = 'crash-digits'") == []
    # when: the next run on the same home
    summary = train_sklearn(load_train_config(None, list(OVERRIDES)))
    # then: the abandoned run is KILLED, saying which process died where
    abandoned = client.get_run(killed_run)
    assert abandoned.info.status == "KILLED"
    assert abandoned.info.end_time is not None
    assert abandoned.data.tags["error"] == (
        f"process {proc.pid} on {socket.gethostname()} ended without finishing the run"
    )
    # and: the new run completed and registered version 1, from itself
    assert client.get_run(summary.run_id).info.status == "FINISHED"
    assert summary.version == "1" and summary.champion
    versions = client.search_model_versions("name = 'crash-digits'")
    assert [(str(v.version), v.run_id) for v in versions] == [("1", summary.run_id)]
    # and: nothing RUNNING is left
    experiment = client.get_experiment_by_name("training")
    assert experiment is not None
    statuses = sorted(r.info.status for r in client.search_runs([experiment.experiment_id]))
    assert statuses == ["FINISHED", "KILLED"]
