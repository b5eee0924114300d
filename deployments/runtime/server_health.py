"""Whether the platform's local servers answer, and as ours: health, discovery, free ports.

`discover` reads `<MLOPS_HOME>/serve/servers.json` and trusts it only when the
servers recorded there answer as this home's (`ours`); `deployments.runtime.servers`
starts and stops them.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import deployments.runtime.team_auth as team_auth
from deployments.runtime.links import mlflow_answers, prefect_answers, servers_file
from deployments.runtime.mlflow_server import mlflow_store
from deployments.runtime.prefect_server import port_of
from deployments.runtime.procs import alive, recorded_pid


def healthy(url: str, timeout: float = 1.0) -> bool:
    """True when `url` answers 200 within `timeout` seconds."""
    import urllib.request  # only here: the warm worker's client never needs it

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def ours(home: Path, info: dict[str, Any]) -> bool:
    """The recorded servers are this home's and answer as what they are.

    Prefect: its API answers `/health` on the recorded port, and the process
    recorded for it (when one is) still runs. MLflow: its API answers, and the
    store recorded for it is this home's store (servers.json copied from another
    home, or left from another store, names another).
    """
    prefect_api, mlflow_url = info["prefect_api_url"], info.get("mlflow_url")
    port = info.get("prefect_port")
    if port is not None and str(port) != port_of(prefect_api):
        return False
    pid = recorded_pid(home / "serve", "prefect")
    if pid is not None and not alive(pid):
        return False
    if not prefect_answers(prefect_api):
        return False
    if mlflow_url:
        auth = team_auth.load(home) if info.get("auth") else None
        if info.get("auth") and auth is None:
            return False  # team servers whose logins are gone: nobody here can call them
        store = info.get("mlflow_store")
        expected = mlflow_store(home, info.get("db") == "postgres", info.get("database"))
        if store is not None and store != expected:
            return False
        if not mlflow_answers(mlflow_url, {"Authorization": auth.platform.header} if auth else {}):
            return False
    return True


def discover(home: Path) -> dict[str, Any] | None:
    """The recorded servers if they answer as ours (`ours`), else None.

    Team servers ask for a login: this process (and what it starts) then calls them
    as the platform's account (`team_auth.log_in`).
    """
    path = servers_file(home)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text())
        if not isinstance(info["prefect_api_url"], str) or not ours(home, info):
            return None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    if info.get("auth"):
        team_auth.log_in(home)
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


def wait_healthy(url: str, name: str, folder: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url, timeout=0.5):
            return
        pid = recorded_pid(folder, name)
        if pid is None or not alive(pid):
            tail = (folder / f"{name}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited before it answered at {url}:\n{tail}")
        time.sleep(0.2)
    tail = (folder / f"{name}.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{name} did not become healthy at {url} within {timeout:.0f} s:\n{tail}")


def up_or_starting(url: str, folder: Path, name: str, grace: float = 120) -> bool:
    """Healthy, or its process started less than `grace` seconds ago and still runs."""
    if healthy(url):
        return True
    pid_file = folder / f"{name}.pid"
    try:
        pid = int(pid_file.read_text())
        young = time.time() - pid_file.stat().st_mtime < grace
    except (OSError, ValueError):
        return False
    return young and alive(pid)


__all__ = ["discover", "free_port", "healthy", "ours", "up_or_starting", "wait_healthy"]
