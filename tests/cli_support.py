"""The platform's command lines run as a user runs them: `python -m MODULE ARGS`, in a subprocess.

One copy for every suite (tests/cli, tests/reliability): the user's environment
minus platform, Prefect and MLflow settings, on a temporary home.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def cli_env(
    home: Path, *, temporary_server: bool = True, own_server: bool = False, **extra: str
) -> dict[str, str]:
    """The environment of a command line on `home`; `extra` wins over the defaults.

    `temporary_server` (MLOPS_PREFECT_SERVER=temporary): no local server left
    running and no warm worker. The run then talks to this test process's Prefect
    server (`prefect_support.worker_prefect_api`), as a user's run talks to
    `PREFECT_API_URL`; `own_server` gives it Prefect's temporary server instead,
    for the tests of that mode (it costs about 20 CPU-s a command). Without
    `temporary_server` the platform's default (a local server in the home) applies.
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(MLOPS_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    # The platform waits 90 s for a temporary server (a test may ask for one in
    # `extra`); on a machine that runs the suite on more workers than cores, a
    # start can take longer than that.
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "300"
    if temporary_server:
        env["MLOPS_PREFECT_SERVER"] = "temporary"
        served = Path(extra.get("MLOPS_HOME", home)) / "serve" / "servers.json"
        if not own_server and "PREFECT_API_URL" not in extra and not served.is_file():
            # (a home under `make serve` keeps its own servers, as a user's does)
            from prefect_support import worker_prefect_api

            env["PREFECT_API_URL"] = worker_prefect_api()
    env.update(extra)
    return env


def run_cli(
    home: Path,
    module: str,
    *args: str,
    timeout: int = 300,
    temporary_server: bool = True,
    own_server: bool = False,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    """`python -m <module> ARGS` exactly as a user runs it, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=cli_env(home, temporary_server=temporary_server, own_server=own_server, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def main_in_process(
    monkeypatch: pytest.MonkeyPatch, home: Path, module: str, *args: str, **extra: str
) -> int:
    """`module.main(ARGS)` in this process, in the environment `run_cli` gives a command.

    For tests of what a command checks and prints, where the process itself is not
    under test: a subprocess costs 4-8 CPU-s of imports before it does anything. The
    test reads the output with `capsys`. The Prefect server stays unset (the
    platform's temporary mode without a server): give such tests bad input that is
    refused before any run, or `PREFECT_API_URL` in `extra`.
    """
    for name in list(os.environ):
        if name.startswith(("MLOPS_", "PREFECT_", "MLFLOW_")) and name != "MLOPS_TEST_PROFILE":
            monkeypatch.delenv(name)
    env = {"MLOPS_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env["MLOPS_PREFECT_SERVER"] = "temporary"
    env.update(extra)
    for name, value in env.items():
        if value == "":
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    # A command that opens a store sets MLflow's tracking URI in the environment too
    # (mlflow.set_tracking_uri): it goes with the test, as the variables above do.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.chdir(REPO)
    return int(importlib.import_module(module).main(list(args)))


__all__ = ["REPO", "cli_env", "main_in_process", "run_cli"]
