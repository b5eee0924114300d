"""Background processes of the platform: start one, tell whether it runs, end it.

One helper for every process the platform leaves running (the local Prefect
server, the MLflow server of `make serve`, the warm worker): each is started in
a session of its own, logs to `<name>.log` and is recorded in `<name>.pid` in
its folder, so any later command can stop it. Starting is serialised by one
file lock per folder, so concurrent commands never start the same server twice.

Standard library only: the warm worker's client imports this before anything
heavy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

LOCK_FILE = ".lock"
STOP_SECONDS = 10.0
# What a spawned server may see of the caller's environment. Everything else
# (cloud credentials, tokens, the caller's own settings) stays with the caller.
ENV_NAMES = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME", "VIRTUAL_ENV"}
)
ENV_PREFIXES = ("LC_", "PYTHON", "PREFECT_", "MLFLOW_", "SQLALCHEMY_")
# Credentials by name, dropped even where a prefix above would let them through.
SECRET_MARKERS = (
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "API_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH_STRING",
)

# Children this process started: ended by waiting on them, not by polling.
_children: dict[int, subprocess.Popen[bytes]] = {}


def is_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def server_env(
    source: Mapping[str, str] | None = None,
    *,
    extra_prefixes: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    **updates: str,
) -> dict[str, str]:
    """The allow-listed part of `source` (default: this process), without credentials.

    `extra_prefixes` lets a caller pass more through (the MLflow server of
    `make serve` needs `AWS_*` only when its artifacts go to S3); `drop` names
    variables to leave out; `updates` are set on top.
    """
    source = os.environ if source is None else source
    prefixes = ENV_PREFIXES + extra_prefixes
    env = {
        k: v
        for k, v in source.items()
        if (k in ENV_NAMES or k.startswith(prefixes)) and k not in drop
    }
    allowed_secrets = {k for k in env if k.startswith(extra_prefixes)} if extra_prefixes else set()
    env = {k: v for k, v in env.items() if not is_secret(k) or k in allowed_secrets}
    return {**env, **updates}


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the folder's start lock (an exclusive `flock`, released if the holder dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def spawn(
    name: str,
    argv: list[str],
    env: dict[str, str],
    folder: Path,
    cwd: Path | None = None,
    user: Any = None,
) -> int:
    """Start a background process logging to `<name>.log`; `<name>.pid` lets `end` stop it.

    `user` (a `pwd.struct_passwd`) runs it as that user: PostgreSQL refuses root.
    """
    as_user: dict[str, Any] = {}
    if user is not None:
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with (folder / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd or folder,
            start_new_session=True,  # outlives the command that started it; `end` stops it
            **as_user,
        )
    _children[proc.pid] = proc
    pid_file = folder / f"{name}.pid"
    tmp = pid_file.with_name(f".{name}.pid.{os.getpid()}")
    tmp.write_text(str(proc.pid))
    os.replace(tmp, pid_file)
    return proc.pid


def recorded_pid(folder: Path, name: str) -> int | None:
    """The pid in `<name>.pid`, if the file holds one."""
    try:
        return int((folder / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return None


def alive(pid: Any) -> bool:
    """Whether `pid` names a running process (one of ours or not); a zombie is not running."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) != "Z"


def _state(pid: int) -> str:
    """The process's state letter from /proc ("Z" for a zombie; "" when unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return (stat.rpartition(")")[2].split() or [""])[0]


def end(folder: Path, name: str, timeout: float = STOP_SECONDS) -> bool:
    """Stop the process recorded in `<name>.pid` and its group; True when one was running.

    A process this command started is reaped (waited on) and so ends at once;
    another's is watched until it is gone. After `timeout` seconds the group is
    killed.
    """
    pid_file = folder / f"{name}.pid"
    pid = recorded_pid(folder, name)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    running = alive(pid) or _group_alive(pid)
    if running:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        _wait_gone(pid, timeout)
    pid_file.unlink(missing_ok=True)
    return running


def _wait_gone(pid: int, timeout: float) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            child.wait()
    else:
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
    # The rest of its group (a server's own workers), reparented and reaped by init.
    deadline = time.monotonic() + timeout
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    """Whether a running (not zombie) process is left in process group `pgid`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


__all__ = [
    "alive",
    "end",
    "is_secret",
    "locked",
    "recorded_pid",
    "server_env",
    "spawn",
]
