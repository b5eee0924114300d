"""The warm worker (deployments.runtime.warm): later runs handed to a process that already imported
the heavy libraries behave exactly like runs in their own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployments.runtime import warm
from deployments.runtime.servers import stop

REPO = Path(__file__).resolve().parents[2]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(MLOPS_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    return env


def train(home: Path, *args: str, stats: Path | None = None, **extra: str):
    env = env_for(home, **extra)
    if stats is not None:
        env["MLOPS_WARM_STATS"] = str(stats)
    return subprocess.run(
        [sys.executable, "-m", "flows.train", "--set", "data.source=iris", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def wait_ready(home: Path, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = json.loads((home / "serve" / "warm.json").read_text())
        if info.get("ready"):
            return info
        time.sleep(0.2)
    raise AssertionError("the warm worker did not become ready")


@pytest.fixture(scope="module")
def warm_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home whose first run started the local Prefect server and the warm worker."""
    home = tmp_path_factory.mktemp("warm") / "state"
    first = train(home)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Started a warm worker" in first.stderr
    wait_ready(home)
    yield home
    stop(home)


def test_a_later_run_is_handed_to_the_warm_worker_and_reports_as_usual(
    warm_home: Path, tmp_path: Path
) -> None:
    # given: the worker the first run left behind
    worker_pid = wait_ready(warm_home)["pid"]
    stats = tmp_path / "stats.json"
    # when
    result = train(warm_home, "--set", "model.params.C=0.5", stats=stats)
    # then: the same outcome and output as a run in its own process
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Training run complete." in result.stdout
    assert "Registered model: iris-logistic-regression version" in result.stdout
    # Prefect's logs reach the caller's log file, which its summary names
    log = next(line for line in result.stdout.splitlines() if line.strip().startswith("Log:"))
    assert "Flow run" in Path(log.split(":", 1)[1].strip()).read_text()
    assert "Started a warm worker" not in result.stderr
    # and: the work was done by a process forked from the worker, which reported it
    done = json.loads(stats.read_text())
    assert done["exit"] == 0
    assert done["maxrss_kb"] > 100_000  # the forked process, not the thin client
    assert wait_ready(warm_home)["pid"] == worker_pid


def test_bad_input_through_the_worker_is_one_line_and_exit_2(
    warm_home: Path, tmp_path: Path
) -> None:
    # given
    stats = tmp_path / "stats.json"
    # when
    result = train(warm_home, "--set", "model.nope=1", stats=stats)
    # then
    assert result.returncode == 2
    assert result.stderr.strip() == "error: config: model.nope: unknown key"
    assert result.stdout == ""
    assert json.loads(stats.read_text())["exit"] == 2


def test_a_run_in_another_setup_runs_in_process_and_replaces_the_worker(
    warm_home: Path, tmp_path: Path
) -> None:
    # given: a Prefect setting the worker did not start with
    old_pid = wait_ready(warm_home)["pid"]
    stats = tmp_path / "stats.json"
    # when
    result = train(warm_home, stats=stats, PREFECT_LOGGING_LEVEL="WARNING")
    # then: not handed over (no report from a worker), and done in this setup
    assert result.returncode == 0, result.stderr[-3000:]
    assert not stats.exists()
    assert "Flow run" not in result.stderr  # the WARNING level applied
    # and: a fresh worker for this setup replaced the old one
    assert "Started a warm worker" in result.stderr
    info = wait_ready(warm_home)
    assert info["pid"] != old_pid
    assert not warm.process_alive(old_pid)
    # and: switching back starts one for the original setup again
    back = train(warm_home, stats=stats)
    assert back.returncode == 0 and not stats.exists()
    wait_ready(warm_home)


def test_an_interrupt_reaches_the_run_in_the_worker(warm_home: Path) -> None:
    # given: a run in progress in the worker
    wait_ready(warm_home)
    proc = subprocess.Popen(
        # --verbose: Prefect's lines on stderr tell when the run is under way
        [sys.executable, "-m", "flows.train", "--set", "data.source=digits", "--verbose"],
        cwd=REPO,
        env=env_for(warm_home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    seen = ""
    while "Task run 'split" not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        if not line:
            break
        seen += line
    # when: Ctrl-C in the terminal of the command
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    # then: the run stops as an interrupted run in its own process would
    assert proc.returncode == 130, seen + err
    assert err.strip().splitlines()[-1] == "error: interrupted"


def test_serve_stop_stops_the_worker(tmp_path: Path) -> None:
    # given
    home = tmp_path / "state"
    first = train(home)
    assert first.returncode == 0, first.stderr[-3000:]
    pid = wait_ready(home)["pid"]
    # when
    result = subprocess.run(
        [sys.executable, "-m", "deployments.serve", "stop"],
        cwd=REPO,
        env=env_for(home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then
    assert result.returncode == 0
    assert "warm worker" in result.stdout
    assert not warm.process_alive(pid)
    assert not (home / "serve" / "warm.sock").exists()
    # and: the next run works in its own process and starts a new worker
    again = train(home)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Started a warm worker" in again.stderr
    stop(home)


def test_the_worker_is_off_when_asked_or_with_a_temporary_server(tmp_path: Path) -> None:
    # given / when
    off = train(tmp_path / "off", MLOPS_WARM_WORKER="false")
    # then
    assert off.returncode == 0, off.stderr[-3000:]
    assert "warm worker" not in off.stderr
    assert not (tmp_path / "off" / "serve" / "warm.json").exists()
    stop(tmp_path / "off")
    assert not warm.enabled({"MLOPS_PREFECT_SERVER": "temporary"})
    assert not warm.enabled({"MLOPS_WARM_WORKER": "0"})
    assert warm.enabled({})


def test_the_fingerprint_follows_the_setup_a_worker_depends_on() -> None:
    base = {"PATH": "/bin", "MLOPS_HOME": "/h"}
    same = warm.fingerprint(base)
    assert warm.fingerprint({**base, "PATH": "/usr/bin", "TERM": "x"}) == same
    assert warm.fingerprint({**base, "MLOPS_WARM_STATS": "/tmp/x"}) == same
    for key in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI", "OMP_NUM_THREADS", "AWS_PROFILE"):
        assert warm.fingerprint({**base, key: "1"}) != same, key
