"""`make worker POOL=...`: a Prefect process worker wired to the platform's servers.

It finds the servers of `make serve` (or uses PREFECT_API_URL and
MLOPS_TRACKING_URI from the environment) and passes them on to every flow run.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from deployments.runtime.servers import discover
from deployments.runtime.settings import platform_settings
from libs.errors import InputError
from libs.settings import PlatformSettings


def worker_env(settings: PlatformSettings) -> dict[str, str]:
    """The environment a worker and its flow runs need, or an error line."""
    servers = discover(settings.home_dir)  # first: team servers log this process in
    env = dict(os.environ)  # so the worker and its flow runs carry the team's logins
    if "PREFECT_API_URL" not in env:
        if servers is None:
            raise SystemExit(
                "error: no Prefect server: run `make serve` first, or set PREFECT_API_URL"
            )
        env["PREFECT_API_URL"] = servers["prefect_api_url"]
    if (
        servers
        and servers.get("mlflow_url")
        and not settings.tracking_uri
        and ("MLFLOW_TRACKING_URI" not in env)
    ):
        env["MLOPS_TRACKING_URI"] = servers["mlflow_url"]
    env.setdefault("MLOPS_HOME", str(settings.home_dir))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deployments.worker")
    parser.add_argument("--pool", required=True)
    parser.add_argument("--name", default=None, help="worker name (default: Prefect's)")
    parser.add_argument("--limit", type=int, default=None, help="flow runs at once on this worker")
    args, rest = parser.parse_known_args(argv)
    try:
        settings = platform_settings()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    env = worker_env(settings)
    # Flow runs inherit the worker's environment: training runs tag MLflow with it.
    env["MLOPS_WORKER_NAME"] = args.name or socket.gethostname()
    prefect = str(Path(sys.executable).parent / "prefect")
    command = [prefect, "worker", "start", "--pool", args.pool, "--type", "process"]
    if args.name:
        command += ["--name", args.name]
    if args.limit:
        command += ["--limit", str(args.limit)]
    os.execve(prefect, command + rest, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
