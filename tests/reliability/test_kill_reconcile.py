"""A sweep and a batch scoring killed mid-run (SIGKILL): the next run of any kind cleans up.

Nothing can end an MLflow run or remove a temp file from inside a process
killed with SIGKILL. Every run kind records its host and pid, and every run
start closes the runs of dead processes on this host and removes the temp files
of dead writers, so what the kills left is KILLED and gone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from reliability_support import REPO, cli_env, running_runs, sqlite_rows, store_uri, temp_files

from flows.config.predict import PredictConfig
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.predict import batch_predict
from libs.datasets import load_bundled

MODEL = "kill-iris"
SWEEP_CHILD_STARTED = (
    "SELECT r.run_uuid FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
    "WHERE r.status = 'RUNNING' AND t.key = 'mlflow.parentRunId'"
)
RUNNING_WITH_PID = (
    "SELECT r.run_uuid, t.value FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
    "WHERE r.status = 'RUNNING' AND t.key = 'process.pid'"
)


def start_cli(home: Path, module: str, *args: str) -> subprocess.Popen[bytes]:
    """`python -m <module>` in a process group of its own (with its temporary server)."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=cli_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 300
) -> None:
    """Poll every 20 ms; SIGKILL the whole process group once `ready()` holds."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ready():
                os.killpg(proc.pid, signal.SIGKILL)
                return
            time.sleep(0.02)
        raise AssertionError(f"the process never got there (exit code {proc.poll()})")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def runs_of(db: Path, pid: int) -> list[str]:
    return [str(run) for run, value in sqlite_rows(db, RUNNING_WITH_PID) if value == str(pid)]


@pytest.mark.flow
@pytest.mark.slow
def test_killed_sweep_and_scoring_are_reconciled_by_the_next_run(
    fresh_home: Path, tmp_path: Path
) -> None:
    home = fresh_home
    db = home / "mlflow.db"
    client = MlflowClient(store_uri(home))
    # given: a champion to score with, and a batch large enough to be killed mid-way
    train_sklearn(load_train_config(None, ["data.source=iris", f"tracking.model_name={MODEL}"]))
    features = load_bundled("iris").drop(columns=["target"])
    batch = tmp_path / "batch.csv"
    pd.concat([features] * 2000, ignore_index=True).to_csv(batch, index=False)
    out = tmp_path / "out"
    out.mkdir()
    # when: a batch scoring is killed while its output is a temp file
    scoring = start_cli(
        home,
        "flows.predict",
        *("--model", MODEL, "--input", str(batch), "--output", str(out / "scored.parquet")),
        *("--chunk-rows", "2000"),
    )
    kill_when(scoring, lambda: bool(temp_files(out)))
    killed_scoring = runs_of(db, scoring.pid)
    # then: what the kill left: a RUNNING run, a temp file beside the output
    assert len(killed_scoring) == 1
    assert client.get_run(killed_scoring[0]).info.status == "RUNNING"
    assert temp_files(out)
    # when: a sweep runs next, and is killed once its points are training
    sweep = start_cli(
        home,
        "flows.sweep",
        *("--config", "configs/sweeps/wine_rf_screening.yaml", "--set", "train.data.max_rows=120"),
    )
    kill_when(sweep, lambda: bool(sqlite_rows(db, SWEEP_CHILD_STARTED)))
    killed_sweep = runs_of(db, sweep.pid)
    # then: the sweep's start cleaned up after the scoring: KILLED, no temp file
    assert client.get_run(killed_scoring[0]).info.status == "KILLED"
    assert temp_files(out) == []
    # and: the sweep itself left RUNNING runs, the parent and at least one point
    assert len(killed_sweep) >= 2
    assert {client.get_run(r).info.status for r in killed_sweep} == {"RUNNING"}
    # when: the next run, of any kind (a small batch scoring)
    small = tmp_path / "small.csv"
    features.to_csv(small, index=False)
    batch_predict(
        PredictConfig(model=MODEL, input=str(small), output=str(tmp_path / "small.parquet"))
    )
    # then: every run of the dead processes is KILLED, saying which process died where
    for run_id, pid in [(r, scoring.pid) for r in killed_scoring] + [
        (r, sweep.pid) for r in killed_sweep
    ]:
        run = client.get_run(run_id)
        assert run.info.status == "KILLED", run_id
        assert run.info.end_time is not None
        assert run.data.tags["error"] == (
            f"process {pid} on {socket.gethostname()} ended without finishing the run"
        )
    # and: nothing RUNNING, no temp file of a dead writer anywhere
    assert running_runs(home) == []
    assert temp_files(out) == [] and temp_files(home) == []
    assert not (out / "scored.parquet").exists()
    # and: no registered version is left waiting for a gate that will never run
    pending = [v for v in client.search_model_versions() if v.tags.get("gate.state") == "pending"]
    assert pending == []


REGISTER_THEN_DIE = """
import os, signal, sys
from libs.settings import PlatformSettings
from tasks import tracking

settings = PlatformSettings()
for name, promote in zip(sys.argv[1::2], sys.argv[2::2], strict=True):
    run = tracking.start_run(
        settings, experiment="kill-registration", artifact_root=None, run_name="doomed",
        params={}, tags={}, flow_run_id=None,
    )
    with tracking.registry_lock(settings, name):
        version = tracking.register_version(run, name, "file:///nowhere/model", {})
        if promote == "promote":
            tracking.set_champion(run, name, version)
    print(name, run.run_id, version, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # before the gate could say it was done
"""


def test_a_version_whose_process_died_mid_gate_is_settled_by_the_next_run(
    fresh_home: Path,
) -> None:
    """One process dies holding two versions in the gate, one cut off before the alias
    moved and one after (an interpreter with MLflow costs seconds: one serves both)."""
    from libs.settings import PlatformSettings
    from tasks import tracking

    # given: a process that registered two versions and died (SIGKILL) inside their gates
    pending, moved = "kill-gate-pending", "kill-gate-moved"
    proc = subprocess.run(
        [sys.executable, "-c", REGISTER_THEN_DIE, pending, "keep", moved, "promote"],
        cwd=REPO,
        env=cli_env(fresh_home, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    registered = {
        name: (run_id, version)
        for name, run_id, version in map(str.split, proc.stdout.splitlines())
    }
    assert set(registered) == {pending, moved}, proc.stdout
    client = MlflowClient(store_uri(fresh_home))
    for name, (_, version) in registered.items():
        assert client.get_model_version(name, version).tags["gate.state"] == "pending", name
    # when: the next run starts (of any kind)
    settings = PlatformSettings()
    run = tracking.start_run(
        settings,
        experiment="kill-registration-next",
        artifact_root=None,
        run_name="next",
        params={},
        tags={},
        flow_run_id=None,
    )
    tracking.end_run(run)
    # then: the dead runs are KILLED
    for name, (run_id, _) in registered.items():
        assert client.get_run(run_id).info.status == "KILLED", name
    # and: a version the alias had moved to did pass the gate: its state is closed
    version = registered[moved][1]
    tags = client.get_model_version(moved, version).tags
    assert tags["gate.state"] == "done", "after the alias moved"
    assert str(client.get_model_version_by_alias(moved, "champion").version) == version
    # and: a version cut off before the gate says it never passed
    tags = client.get_model_version(pending, registered[pending][1]).tags
    assert tags["gate.state"] == "abandoned", "before the alias moved"
    assert tags["gate"].startswith("not promoted: never passed the gate: process ")
    assert client.get_registered_model(pending).aliases == {}
