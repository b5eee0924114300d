"""The platform's local servers: start them in the background, find them, stop them.

`make serve` starts a Prefect server and an MLflow server; a command line run
with nothing configured starts (once) a Prefect server alone and later runs
reuse it, instead of paying Prefect's temporary server start and stop on every
run. Both record their URLs in `<MLOPS_HOME>/serve/servers.json`, which
`discover` reads; `stop` (`make serve-stop`) ends whatever was started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blocks.warm import process_alive

SERVERS_FILE = Path("serve") / "servers.json"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Served:
    """URLs of running servers (mlflow_url is None when only Prefect was started)."""

    prefect_api_url: str
    mlflow_url: str | None
    home: Path

    @property
    def ui_url(self) -> str:
        return self.prefect_api_url.removesuffix("/api")


def servers_file(home: Path) -> Path:
    return home / SERVERS_FILE


def healthy(url: str, timeout: float = 1.0) -> bool:
    """True when `url` answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def discover(home: Path) -> dict[str, Any] | None:
    """The recorded servers if they answer their health checks, else None."""
    path = servers_file(home)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text())
        prefect_api, mlflow_url = info["prefect_api_url"], info.get("mlflow_url")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not healthy(f"{prefect_api}/health"):
        return None
    if mlflow_url and not healthy(f"{mlflow_url}/health"):
        return None
    return info


def free_port(preferred: int) -> int:
    """`preferred` when nothing listens there, else any free loopback port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def spawn(
    name: str, argv: list[str], env: dict[str, str], folder: Path, cwd: Path | None = None
) -> int:
    """Start a background process logging to `<name>.log`; `<name>.pid` lets `end` stop it."""
    with (folder / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd or folder,
            start_new_session=True,  # outlives the command that started it; `stop` ends it
        )
    (folder / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def _wait(url: str, name: str, folder: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url, timeout=0.5):
            return
        time.sleep(0.2)
    tail = (folder / f"{name}.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{name} did not become healthy at {url} within {timeout:.0f} s:\n{tail}")


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}


def begin(home: Path, prefect_port: int = 4200, mlflow_port: int | None = 5000) -> Served:
    """Start the servers that are neither up nor starting, without waiting for them.

    Their URLs are recorded at once; `start` (or `discover`, once they answer)
    picks them up. A command calls this first thing, so that a server's start
    overlaps the command's own imports instead of preceding them.
    """
    folder = home / "serve"
    folder.mkdir(parents=True, exist_ok=True)
    known = _recorded(home)
    prefect_api = known.get("prefect_api_url")
    if prefect_api and not _up_or_starting(f"{prefect_api}/health", folder, "prefect"):
        prefect_api = None
    if not prefect_api:
        end(folder, "prefect")  # a recorded server that no longer answers
        prefect_api = f"http://127.0.0.1:{free_port(prefect_port)}/api"
        env = {
            **_base_env(),
            "PREFECT_HOME": str(folder / "prefect"),
            # Lean settings (see the stack notes): no telemetry, block types
            # registered once rather than on every start.
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "true",
        }
        (folder / "prefect").mkdir(exist_ok=True)
        port = prefect_api.rsplit(":", 1)[1].removesuffix("/api")
        argv = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", port]
        spawn("prefect", argv, env, folder)
    mlflow_url = known.get("mlflow_url")
    if mlflow_url and not _up_or_starting(f"{mlflow_url}/health", folder, "mlflow"):
        mlflow_url = None
    if mlflow_port is not None and not mlflow_url:
        end(folder, "mlflow")
        mlflow_url = f"http://127.0.0.1:{free_port(mlflow_port)}"
        destination = os.environ.get("MLOPS_ARTIFACTS_DESTINATION") or str(folder / "mlartifacts")
        env = {**_base_env(), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        argv = [
            str(BIN / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            mlflow_url.rsplit(":", 1)[1],
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            destination,
        ]
        spawn("mlflow", argv, env, folder)
    served = Served(prefect_api, mlflow_url, home)
    servers_file(home).write_text(
        json.dumps({"prefect_api_url": served.prefect_api_url, "mlflow_url": served.mlflow_url})
    )
    return served


def start(
    home: Path,
    prefect_port: int = 4200,
    mlflow_port: int | None = 5000,
    timeout: float = 120,
) -> Served:
    """Start the servers (or reuse running or starting ones) and wait until they answer.

    `mlflow_port=None` starts Prefect only (runs then log to MLflow on SQLite).
    """
    served = begin(home, prefect_port, mlflow_port)
    folder = home / "serve"
    _wait(f"{served.prefect_api_url}/health", "prefect", folder, timeout)
    if served.mlflow_url:
        _wait(f"{served.mlflow_url}/health", "mlflow", folder, timeout)
    return served


def _up_or_starting(url: str, folder: Path, name: str, grace: float = 120) -> bool:
    """Healthy, or its process started less than `grace` seconds ago and still runs."""
    if healthy(url):
        return True
    pid_file = folder / f"{name}.pid"
    try:
        pid = int(pid_file.read_text())
        young = time.time() - pid_file.stat().st_mtime < grace
    except (OSError, ValueError):
        return False
    return young and process_alive(pid)


def _recorded(home: Path) -> dict[str, Any]:
    try:
        info = json.loads(servers_file(home).read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def end(folder: Path, name: str) -> bool:
    """Stop the process recorded in `<name>.pid`, if any; True when one was running."""
    pid_file = folder / f"{name}.pid"
    if not pid_file.is_file():
        return False
    try:
        pid = int(pid_file.read_text())
        os.killpg(pid, signal.SIGTERM)
    except (ValueError, ProcessLookupError, PermissionError):
        pid_file.unlink(missing_ok=True)
        return False
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def stop(home: Path) -> list[str]:
    """Stop the servers started by `start`; returns the names stopped."""
    from blocks import warm

    folder = home / "serve"
    stopped = [name for name in ("prefect", "mlflow") if end(folder, name)]
    if warm.stop(home):
        stopped.append("warm worker")
    servers_file(home).unlink(missing_ok=True)
    return stopped


__all__ = [
    "SERVERS_FILE",
    "Served",
    "begin",
    "discover",
    "end",
    "free_port",
    "healthy",
    "servers_file",
    "spawn",
    "start",
    "stop",
]
