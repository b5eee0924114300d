"""Commands the how-to pages show that no other test runs: run here for real, as a user would.

`python -m deployments.serve` (behind `make serve` and `make serve-stop`), the
worker's answer to a stale `servers.json`, and `python -m deployments.apply`'s
targets, checked before anything talks to Prefect.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.runtime.servers import stop
from deployments.apply import HERE, load_target

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_module(home: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(
        MLOPS_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", MLOPS_WARM_WORKER="false"
    )
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_serve_start_status_and_stop_from_the_cli(tmp_path: Path) -> None:
    # given: nothing running on a fresh home
    home = tmp_path / "state"
    prefect_port, mlflow_port = free_port(), free_port()
    ports = ("--prefect-port", str(prefect_port), "--mlflow-port", str(mlflow_port))
    try:
        before = run_module(home, "deployments.serve", "status")
        nothing = run_module(home, "deployments.serve", "stop")
        # when: the servers start, then `make serve` runs again
        started = run_module(home, "deployments.serve", "start", *ports)
        again = run_module(home, "deployments.serve", "start", *ports)
        up = run_module(home, "deployments.serve", "status")
    finally:
        stopped = run_module(home, "deployments.serve", "stop")
        stop(home)  # in case the command above failed
    after = run_module(home, "deployments.serve", "status")
    # then
    assert before.stdout.splitlines() == ["Prefect: down ", "MLflow: down "]
    assert nothing.stdout.strip() == "stopped: nothing was running"
    assert started.returncode == 0, started.stderr[-3000:]
    prefect_api = f"http://127.0.0.1:{prefect_port}/api"
    mlflow_url = f"http://127.0.0.1:{mlflow_port}"
    assert "Servers are up (stop them with: make serve-stop)." in started.stdout
    assert f"  Prefect API:  {prefect_api}" in started.stdout
    assert f"  MLflow UI:    {mlflow_url}" in started.stdout
    assert again.returncode == 0 and f"  Prefect API:  {prefect_api}" in again.stdout
    assert up.stdout.splitlines() == [f"Prefect: up {prefect_api}", f"MLflow: up {mlflow_url}"]
    assert stopped.stdout.strip() == "stopped: prefect, mlflow"
    assert after.stdout.splitlines()[0] == "Prefect: down "
    # and: the state the serve page lists is where it says
    serve = home / "serve"
    for name in ("prefect.log", "mlflow.log", "prefect/prefect.db"):
        assert (serve / name).exists(), name
    # and: the MLflow server kept its runs in the command line's store, not one of its own
    assert (home / "mlflow.db").exists() and not (serve / "mlflow.db").exists()
    assert not (serve / "servers.json").exists()


def test_a_stale_servers_json_is_reported_down_and_ignored(tmp_path: Path) -> None:
    # given: servers.json left behind by servers that are gone
    home = tmp_path / "state"
    (home / "serve").mkdir(parents=True)
    dead = f"http://127.0.0.1:{free_port()}"
    (home / "serve" / "servers.json").write_text(
        json.dumps({"prefect_api_url": f"{dead}/api", "mlflow_url": dead})
    )
    # when
    status = run_module(home, "deployments.serve", "status")
    worker = run_module(home, "deployments.worker", "--pool", "local")
    # then
    assert status.stdout.splitlines() == [f"Prefect: down {dead}/api", f"MLflow: down {dead}"]
    assert worker.returncode != 0
    assert worker.stderr.strip() == (
        "error: no Prefect server: run `make serve` first, or set PREFECT_API_URL"
    )


AWS_TARGETS = sorted(HERE.glob("aws/*/*/target.yaml"))


@pytest.mark.parametrize(
    "name",
    [p.stem for p in sorted(HERE.glob("targets/*.yaml"))]
    + [p.parent.relative_to(HERE).as_posix() for p in AWS_TARGETS],
)
def test_every_shipped_target_validates(name: str) -> None:
    target = load_target(name)
    assert target.work_pool in {p.name for p in target.pools}


def test_an_unknown_target_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_module(tmp_path / "state", "deployments.apply", "--target", "nowhere")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --target nowhere: no target file at deployments/targets/nowhere.yaml"
    )
    assert not (tmp_path / "state").exists()
