"""`make serve`: a local Prefect server and MLflow server on loopback, kept lean.

    python -m deployments.serve [start|stop|status] [--prefect-port 4200] [--mlflow-port 5000]

Both run in the background with their state under `<MLOPS_HOME>/serve/`
(logs, pids, databases); `servers.json` there records their URLs so that
`python -m flows.train`, `make deploy` and `make worker` find them with no
other setting. MLflow artifacts go to `MLOPS_ARTIFACTS_DESTINATION` (for
example `s3://bucket/prefix/mlartifacts`, with AWS credentials in the
environment) or a local folder, served through the MLflow server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from blocks.servers import healthy, servers_file
from libs.settings import PlatformSettings

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Served:
    prefect_api_url: str
    mlflow_url: str
    home: Path

    @property
    def ui_url(self) -> str:
        return self.prefect_api_url.removesuffix("/api")


def _spawn(name: str, argv: list[str], env: dict[str, str], folder: Path) -> int:
    log = (folder / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=folder,
        start_new_session=True,  # survives the make process; stopped by `stop`
    )
    (folder / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def _wait(url: str, name: str, folder: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return
        time.sleep(0.5)
    tail = (folder / f"{name}.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{name} did not become healthy at {url} within {timeout:.0f} s:\n{tail}")


def start(
    home: Path, prefect_port: int = 4200, mlflow_port: int = 5000, timeout: float = 120
) -> Served:
    """Start both servers (or reuse running ones) and record their URLs."""
    folder = home / "serve"
    folder.mkdir(parents=True, exist_ok=True)
    served = Served(f"http://127.0.0.1:{prefect_port}/api", f"http://127.0.0.1:{mlflow_port}", home)
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if not healthy(f"{served.prefect_api_url}/health"):
        env = {
            **base,
            "PREFECT_HOME": str(folder / "prefect"),
            # Lean settings (see the stack notes): no telemetry, no block
            # re-registration on every start.
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "true",
        }
        (folder / "prefect").mkdir(exist_ok=True)
        argv = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1"]
        _spawn("prefect", [*argv, "--port", str(prefect_port)], env, folder)
    if not healthy(f"{served.mlflow_url}/health"):
        destination = os.environ.get("MLOPS_ARTIFACTS_DESTINATION") or str(folder / "mlartifacts")
        env = {**base, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        argv = [
            str(BIN / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(mlflow_port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            destination,
        ]
        _spawn("mlflow", argv, env, folder)
    _wait(f"{served.prefect_api_url}/health", "prefect", folder, timeout)
    _wait(f"{served.mlflow_url}/health", "mlflow", folder, timeout)
    servers_file(home).write_text(
        json.dumps({"prefect_api_url": served.prefect_api_url, "mlflow_url": served.mlflow_url})
    )
    return served


def stop(home: Path) -> list[str]:
    """Stop the servers started by `start`; returns the names stopped."""
    folder = home / "serve"
    stopped = []
    for name in ("prefect", "mlflow"):
        pid_file = folder / f"{name}.pid"
        if not pid_file.is_file():
            continue
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            stopped.append(name)
        except ProcessLookupError:
            pass
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
        pid_file.unlink()
    servers_file(home).unlink(missing_ok=True)
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", nargs="?", default="start", choices=["start", "stop", "status"])
    parser.add_argument("--prefect-port", type=int, default=4200)
    parser.add_argument("--mlflow-port", type=int, default=5000)
    args = parser.parse_args(argv)
    home = PlatformSettings().home_dir
    if args.action == "stop":
        stopped = stop(home)
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        return 0
    if args.action == "status":
        path = servers_file(home)
        info = json.loads(path.read_text()) if path.is_file() else {}
        for name, key, suffix in (
            ("Prefect", "prefect_api_url", "/health"),
            ("MLflow", "mlflow_url", "/health"),
        ):
            url = info.get(key)
            state = "up" if url and healthy(url + suffix) else "down"
            print(f"{name}: {state} {url or ''}")
        return 0
    try:
        served = start(home, args.prefect_port, args.mlflow_port)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        "\n".join(
            [
                "Servers are up (stop them with: make serve-stop).",
                f"  Prefect UI:   {served.ui_url}",
                f"  Prefect API:  {served.prefect_api_url}",
                f"  MLflow UI:    {served.mlflow_url}",
                f"  State:        {home / 'serve'}",
                "python -m flows.train, make deploy and make worker now use them.",
            ]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
