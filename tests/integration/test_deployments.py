"""Serve, deploy, run a worker and trigger a deployment from the CLI, as a user would.

Real processes on free loopback ports: a Prefect server and an MLflow server
(`deployments.serve`), a process worker (`make worker`'s module) and the
`prefect` CLI. Everything is stopped after the module.

The distributed sweep (`sweep/wine-screening-distributed`, its points spread over
two workers) runs in tests/integration/test_team_stack_concurrency.py, under load
and on the team's PostgreSQL servers: one such scenario in the suite, not two.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from prefect.client.orchestration import get_client

from deployments.serve import Served, start, stop

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# The commands as docs/content/how-to/deploy.md shows them (the docs checker
# finds this exact text here); `prefect_cli` runs them with the venv's prefect.
DOC_RUN = ".venv/bin/prefect deployment run 'train/iris' --watch"
DOC_LS = ".venv/bin/prefect deployment schedule ls train/nightly"
DOC_RESUME = '.venv/bin/prefect deployment schedule resume train/nightly "$SCHEDULE_ID"'
DOC_PAUSE = '.venv/bin/prefect deployment schedule pause train/nightly "$SCHEDULE_ID"'


def doc_args(command: str, **variables: str) -> list[str]:
    """A documented command's arguments (program dropped), `$NAME` filled in."""
    for name, value in variables.items():
        command = command.replace(f"${name}", value)
    return shlex.split(command)[1:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    # No warm worker (deployments.runtime.warm): these runs check servers and workers, not it.
    env.update(MLOPS_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.update(MLOPS_WARM_WORKER="false", **extra)
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("served-home")
    served = start(home, prefect_port=free_port(), mlflow_port=free_port(), timeout=180)
    yield served
    stop(home)


def apply(served: Served) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deployments.apply", "--target", "local"],
        cwd=REPO,
        env=env_for(served.home),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def snapshot(api_url: str) -> dict[str, Any]:
    """What a deployment run depends on, per deployment and pool."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: api_url}),
        get_client(sync_client=True) as client,
    ):
        deployments = {
            d.name: (
                str(d.id),
                d.parameters,
                d.work_pool_name,
                d.pull_steps,
                d.job_variables,
                sorted((getattr(s.schedule, "cron", ""), s.active) for s in d.schedules),
            )
            for d in client.read_deployments()
        }
        pools = {
            p.name: (p.type, p.description, p.concurrency_limit) for p in client.read_work_pools()
        }
    return {"deployments": deployments, "pools": pools}


@pytest.fixture(scope="module")
def deployed(served: Served) -> Served:
    result = apply(served)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-2000:]
    assert "local: created" in result.stdout
    return served


@pytest.fixture(scope="module")
def workers(deployed: Served) -> Iterator[list[str]]:
    """Two process workers on the `local` pool, two flow runs at a time each."""
    procs = []
    names = ["worker-a", "worker-b"]
    for name in names:
        log = (deployed.home / f"{name}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "deployments.worker",
                    "--pool",
                    "local",
                    "--name",
                    name,
                    "--limit",
                    "2",
                ],
                cwd=REPO,
                env=env_for(deployed.home, PREFECT_WORKER_QUERY_SECONDS="2"),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
    yield names
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def prefect_cli(served: Served, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "prefect"), *args],
        cwd=REPO,
        env=env_for(served.home, PREFECT_API_URL=served.prefect_api_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def worker_logs(served: Served, names: list[str]) -> str:
    return "\n".join((served.home / f"{n}.log").read_text(errors="replace")[-2000:] for n in names)


def test_deployment_run_from_the_cli_lands_in_the_mlflow_server(
    deployed: Served, workers: list[str]
) -> None:
    # when: a user triggers the deployment and watches it
    result = prefect_cli(deployed, *doc_args(DOC_RUN))
    # then
    logs = worker_logs(deployed, workers)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:] + logs
    assert "Completed" in result.stdout
    client = MlflowClient(deployed.mlflow_url)
    versions = client.search_model_versions("name = 'iris-random-forest'")
    assert [str(v.version) for v in versions] == ["1"]
    run = client.get_run(versions[0].run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["data.source"] == "iris"
    assert run.data.tags["prefect.flow_run_id"]
    assert "prefect.flow_run_url" in run.data.tags
    assert run.data.tags["worker"] in workers


def test_nightly_schedule_exists_and_is_paused_as_configured(deployed: Served) -> None:
    deployments = snapshot(deployed.prefect_api_url)["deployments"]
    assert deployments["nightly"][5] == [("0 2 * * *", False)]
    assert deployments["customers-nightly"][5] == [("30 3 * * *", False)]
    assert deployments["default"][5] == []
    assert deployments["iris"][1] == {"config_file": "configs/iris_random_forest.yaml"}
    assert deployments["iris"][3] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
    ]


def test_deploying_twice_changes_nothing(deployed: Served) -> None:
    # given
    before = snapshot(deployed.prefect_api_url)
    # when
    again = apply(deployed)
    # then
    assert again.returncode == 0, again.stderr[-2000:]
    assert "local: unchanged" in again.stdout
    assert snapshot(deployed.prefect_api_url) == before


def test_deploy_with_only_temporary_servers_is_a_one_line_error(tmp_path: Path) -> None:
    # given: no server running, and the user opted out of the reusable local one
    result = subprocess.run(
        [sys.executable, "-m", "deployments.apply"],
        cwd=REPO,
        env=env_for(tmp_path, MLOPS_PREFECT_SERVER="temporary"),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: no Prefect server: run `make serve` first, or set PREFECT_API_URL "
        "(MLOPS_PREFECT_SERVER=temporary is set)"
    )


def nightly_schedules(api_url: str) -> list[tuple[str, bool]]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: api_url}),
        get_client(sync_client=True) as client,
    ):
        deployment = client.read_deployment_by_name("train/nightly")
    return [(str(s.id), s.active) for s in deployment.schedules]


def test_paused_schedule_resumes_and_pauses_from_the_cli(deployed: Served) -> None:
    # given: the nightly schedule, paused as deployed
    [(schedule_id, active)] = nightly_schedules(deployed.prefect_api_url)
    assert active is False
    # when: the user lists the schedules, then resumes the one listed
    listed = prefect_cli(deployed, *doc_args(DOC_LS))
    resumed = prefect_cli(deployed, *doc_args(DOC_RESUME, SCHEDULE_ID=schedule_id))
    after_resume = nightly_schedules(deployed.prefect_api_url)
    paused = prefect_cli(deployed, *doc_args(DOC_PAUSE, SCHEDULE_ID=schedule_id))
    # then
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert schedule_id in listed.stdout.replace("\n", "").replace("│", ""), listed.stdout
    assert resumed.returncode == 0, resumed.stderr[-2000:] + resumed.stdout[-2000:]
    assert after_resume == [(schedule_id, True)]
    assert paused.returncode == 0, paused.stderr[-2000:]
    assert nightly_schedules(deployed.prefect_api_url) == [(schedule_id, False)]
