"""The warm worker's side: preload the libraries, then fork one process per command.

Started as `python -m deployments.runtime.warm HOME FINGERPRINT` (see `warm`).
Standard library only until the preload.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from deployments.runtime._warm_setup import (
    CHILD_MARKER,
    fingerprint,
    folder,
    frame,
    read_exactly,
    state,
    write_state,
)

# Third-party modules a run imports; loaded once by the worker (order matters
# little: each pulls in its own dependencies).
PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "scipy.stats",
    "sklearn.base",
    "sklearn.compose",
    "sklearn.datasets",
    "sklearn.ensemble",
    "sklearn.impute",
    "sklearn.inspection",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.neighbors",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.svm",
    "pydantic",
    "pydantic_settings",
    "yaml",
    "pandera.pandas",
    "plotly.graph_objects",
    "plotly.io",
    "prefect",
    "prefect.flows",
    "prefect.tasks",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.artifacts",
    "prefect.cache_policies",
    "prefect.events.worker",
    "prefect.utilities.visualization",
    "prefect_aws",
    "mlflow",
    "mlflow.sklearn",
    "mlflow.pyfunc",
    "mlflow.models",
    "mlflow.data.pandas_dataset",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.artifact.local_artifact_repo",
    "pydoe",
    "statsmodels.api",
    "statsmodels.formula.api",
)
# Our own packages: never kept in the worker, so a worker child imports the
# code as it is on disk now.
PROJECT_PACKAGES = ("libs", "flows", "tasks", "blocks", "deployments", "benchmarks")
IDLE_SECONDS = 3600.0


def _preload() -> list[str]:
    import importlib
    import warnings

    failed = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception:  # optional extras (prefect_aws, pyDOE3) may be absent
                failed.append(name)
    return failed


def serve(home: Path, print_: str) -> dict[str, Any] | None:
    """The worker's loop. Returns only in a forked child, with the command to run."""
    started = time.monotonic()
    if fingerprint() != print_:
        print("warm worker: started in a different setup than its command; not serving")
        return None
    failed = _preload()
    import gc
    import threading

    if threading.active_count() != 1:
        print(f"warm worker: threads after preload {threading.enumerate()}; not serving")
        return None
    # Children share the preloaded objects copy-on-write: keep the collector off them.
    gc.freeze()
    serve_folder = folder(home)
    path = serve_folder / "warm.sock"
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(16)
    stopping = False

    def on_term(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    write_state(home, {"pid": os.getpid(), "fingerprint": print_, "ready": True})
    print(
        f"warm worker {os.getpid()}: ready in {time.monotonic() - started:.1f} s"
        + (f" (not preloaded: {', '.join(failed)})" if failed else ""),
        flush=True,
    )
    last = time.monotonic()
    while not stopping and time.monotonic() - last < IDLE_SECONDS:
        try:
            readable, _, _ = select.select([listener], [], [], 1.0)
        except InterruptedError:
            continue
        if not readable:
            continue
        try:
            conn, _ = listener.accept()
        except OSError:
            continue
        last = time.monotonic()
        if not _same_user(conn):
            conn.close()
            continue
        if os.fork() == 0:
            listener.close()
            return _supervise(conn, print_)  # returns only in the command's process
        conn.close()
    listener.close()
    if state(home).get("pid") == os.getpid():
        for name in ("warm.json", "warm.sock", "warm.pid"):
            (serve_folder / name).unlink(missing_ok=True)
    return None


def _same_user(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _supervise(conn: socket.socket, print_: str) -> dict[str, Any] | None:
    """Between the client and the command: start it, watch both, report its end."""
    os.setpgid(0, 0)  # stopping the worker (its group) leaves this command running
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        header, fds, _flags, _addr = socket.recv_fds(conn, 4, 3)
        (size,) = struct.unpack("!I", header)
        body = read_exactly(conn, size)
        request = json.loads(body or b"{}")
        if len(fds) != 3 or request.get("fingerprint") != print_:
            raise ValueError("refused")
    except (OSError, ValueError, struct.error):
        os._exit(0)  # the client sees no pid and runs the command itself
    pid = os.fork()
    if pid == 0:
        conn.close()
        request["fds"] = fds
        return request
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also done by the child: whichever runs first
    for fd in fds:
        os.close(fd)
    conn.sendall(frame({"pid": pid}))
    code, maxrss = _watch(conn, pid)
    with contextlib.suppress(OSError):
        conn.sendall(frame({"exit": code, "maxrss_kb": maxrss}))
    os._exit(0)


def _watch(conn: socket.socket, pid: int) -> tuple[int, int]:
    """Wait for the command; if the client goes away, stop the command."""
    pidfd = os.pidfd_open(pid)
    while True:
        readable, _, _ = select.select([pidfd, conn.fileno()], [], [])
        if pidfd in readable:
            break
        if conn.fileno() in readable and not _peek(conn):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
            select.select([pidfd], [], [])
            break
    _, status_, usage = os.wait4(pid, 0)
    os.close(pidfd)
    code = os.waitstatus_to_exitcode(status_)
    return (128 - code if code < 0 else code), usage.ru_maxrss


def _peek(conn: socket.socket) -> bytes:
    try:
        return conn.recv(1, socket.MSG_PEEK)
    except OSError:
        return b""


def become(request: dict[str, Any]) -> None:
    """Turn this forked process into `python -m module argv` started by the client."""
    os.setpgid(0, 0)
    fds: list[int] = request["fds"]
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ[CHILD_MARKER] = "1"
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(  # type: ignore[union-attr]
                line_buffering=fd == 2 or unbuffered or os.isatty(fd),
                write_through=unbuffered,
            )
    for name in [m for m in sys.modules if m.split(".")[0] in PROJECT_PACKAGES]:
        del sys.modules[name]
    sys.path[0] = request["cwd"]
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()  # a fresh process draws a fresh global seed
    sys.argv = [request["module"], *request["argv"]]


__all__ = ["become", "serve"]
