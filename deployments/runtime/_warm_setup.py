"""What the warm worker and its clients share: when it may be used, its state, its messages.

A worker may run a command only when both were started in the same setup (the
fingerprint); its state is `<MLOPS_HOME>/serve/warm.json` and the messages on
its socket are length-prefixed JSON. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Environment read at import time by the preloaded libraries.
ENV_PREFIXES = (
    "PREFECT_",
    "MLFLOW_",
    "MLOPS_",
    "PYTHON",
    "AWS_",
    "OMP_",
    "OPENBLAS_",
    "MKL_",
    "NUMEXPR_",
    "SKLEARN_",
    "JOBLIB_",
    "TF_",
    "CUDA",
    "LD_",
    "LC_",
)
ENV_NAMES = ("HOME", "LANG", "TZ", "VIRTUAL_ENV", "SQLALCHEMY_WARN_20")
COMMANDS = ("flows.train", "flows.sweep", "flows.predict")
# Files in the working directory Prefect reads settings from.
PREFECT_SETTINGS_FILES = (".env", "prefect.toml", "pyproject.toml")
# Set in a command the worker runs (so it does not hand itself on again), and a
# benchmark's file for the worker's peak memory: neither is part of the setup.
CHILD_MARKER = "MLOPS_WARM_CHILD"
STATS_FILE = "MLOPS_WARM_STATS"
VOLATILE = {CHILD_MARKER, STATS_FILE}
# Credentials: cloud ones read by boto when a client is made, never at import, so a
# worker needs none of its own (each command brings its environment).
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    # Team mode's logins (deployments.runtime.team_auth): each command logs itself in.
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "PREFECT_API_AUTH_STRING",
}
# The environment this process started with: commands change theirs (tracking
# URIs, MLflow retry settings) and a worker must match what the next one starts with.
STARTUP_ENV = dict(os.environ)
STARTUP_PATH = list(sys.path)  # model loading may add folders to sys.path later
READY_TIMEOUT = 90.0
FALSE = {"0", "false", "no", "off", "n", "f"}


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """True unless MLOPS_WARM_WORKER is false or Prefect runs in temporary mode."""
    env = os.environ if env is None else env
    if env.get("MLOPS_WARM_WORKER", "true").strip().lower() in FALSE:
        return False
    return env.get("MLOPS_PREFECT_SERVER", "auto").strip().lower() != "temporary"


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """`MLOPS_HOME` as the platform settings resolve it (environment, then `.env`)."""
    env = os.environ if env is None else env
    value = env.get("MLOPS_HOME")
    if value is None:
        value = _dotenv_value(Path(".env"), "MLOPS_HOME")
    return Path(value or ".mlops").expanduser().resolve()


def _dotenv_value(path: Path, key: str) -> str | None:
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and name.strip() == key:
            return value.strip().strip("'\"")
    return None


def fingerprint(env: Mapping[str, str] | None = None) -> str:
    """What a worker must share with a command to run it as that command would run.

    Taken from the environment and import path the process started with.
    """
    env = STARTUP_ENV if env is None else env
    chosen = sorted(
        (k, v)
        for k, v in env.items()
        if (k.startswith(ENV_PREFIXES) or k in ENV_NAMES) and k not in (VOLATILE | CREDENTIALS)
    )
    paths = []
    for entry in STARTUP_PATH[1:]:  # [0] is the working directory, set per run
        try:
            paths.append((entry, os.stat(entry).st_mtime_ns))  # changes on (un)install
        except OSError:
            paths.append((entry, 0))
    # Prefect reads its settings once, at import: from the environment, its profiles
    # file and these files in the working directory.
    files = [_stamp(Path(name)) for name in PREFECT_SETTINGS_FILES]
    state = {
        "python": [sys.executable, sys.version, list(sys.flags), sys.warnoptions],
        "xoptions": sorted(map(str, sys._xoptions.items())),
        "paths": paths,
        "env": chosen,
        "cwd": os.getcwd(),
        "files": [*files, _stamp(prefect_profiles(env))],
        "worker": _code_digest(),
    }
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:24]


def _code_digest() -> str:
    """The warm worker's own code: a changed worker is never reused."""
    digest = hashlib.sha256()
    for name in ("warm.py", "_warm_setup.py", "_warm_server.py", "procs.py"):
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def prefect_profiles(env: Mapping[str, str] | None = None) -> Path:
    """Prefect's profiles file, where it would look for it (without importing Prefect)."""
    env = os.environ if env is None else env
    prefect_home = Path(env.get("PREFECT_HOME") or "~/.prefect").expanduser()
    return Path(env.get("PREFECT_PROFILES_PATH") or prefect_home / "profiles.toml").expanduser()


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        info = path.stat()
    except OSError:
        return (str(path), 0, -1)
    return (str(path), info.st_mtime_ns, info.st_size)


def folder(home: Path) -> Path:
    return home / "serve"


def state(home: Path) -> dict[str, Any]:
    try:
        info = json.loads((folder(home) / "warm.json").read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def write_state(home: Path, info: dict[str, Any]) -> None:
    path = folder(home) / "warm.json"
    tmp = path.with_name(f".warm.json.{os.getpid()}")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack("!I", len(body)) + body


def receive(sock: socket.socket) -> dict[str, Any] | None:
    header = read_exactly(sock, 4)
    if header is None:
        return None
    body = read_exactly(sock, struct.unpack("!I", header)[0])
    return None if body is None else json.loads(body)


def read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return chunks


__all__ = [
    "CHILD_MARKER",
    "COMMANDS",
    "READY_TIMEOUT",
    "STATS_FILE",
    "enabled",
    "fingerprint",
    "folder",
    "frame",
    "home_dir",
    "prefect_profiles",
    "read_exactly",
    "receive",
    "state",
    "write_state",
]
