"""The warm worker: later command-line runs skip the seconds of imports.

A run of `python -m flows.train` spends about four seconds importing Prefect,
MLflow, scikit-learn, pandas and plotly before it does any work. After the
first run in auto mode (the reusable local Prefect server), a small background
process is left that has imported those third-party libraries (never this
project's own modules, so edits take effect at once) and nothing else: no
thread, no connection, no open store. Later runs of `flows.train`,
`flows.sweep` and `flows.predict` hand it their arguments, environment,
working directory and standard streams over a Unix socket under
`<MLOPS_HOME>/serve/`; it forks a process that runs the command exactly as
`python -m ...` would, while the command line waits, passes signals on and
exits with the same code.

It is used only when it was started by the same interpreter, with the same
installed packages, interpreter flags, working directory, Prefect profile and
settings files, and environment (`PREFECT_*`, `MLFLOW_*`, `MLOPS_*`,
`PYTHON*`, `AWS_*` less the credentials, which the worker never holds, thread
and locale settings); otherwise the run happens in-process as before and a
fresh worker replaces the old one. It
stops after an hour without a request, with `make serve-stop`, and is never
started with `MLOPS_WARM_WORKER=false` or `MLOPS_PREFECT_SERVER=temporary`.

This module imports only the standard library: the client side runs before
anything heavy is imported.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deployments.runtime._warm_setup import (
    CHILD_MARKER,
    COMMANDS,
    CREDENTIALS,
    READY_TIMEOUT,
    STARTUP_ENV,
    STATS_FILE,
    VOLATILE,
    enabled,
    fingerprint,
    folder,
    frame,
    home_dir,
    prefect_profiles,
    receive,
    state,
    write_state,
)
from deployments.runtime.procs import alive, end, locked, spawn

# The name the tests and older callers know.
process_alive = alive

# --- client --------------------------------------------------------------------------


def run_warm(module: str, argv: Sequence[str]) -> int | None:
    """Run `python -m module argv` in the warm worker; None when none is usable.

    None means nothing was started: the caller runs the command itself.
    """
    if module not in COMMANDS or not enabled() or os.environ.get(CHILD_MARKER):
        return None
    if {"-h", "--help"} & set(argv):
        return None  # instant in-process anyway
    home = home_dir()
    print_ = fingerprint()
    info = state(home)
    if info.get("fingerprint") != print_ or not alive(info.get("pid")):
        return None
    deadline = time.monotonic() + READY_TIMEOUT
    while not info.get("ready"):  # started moments ago: its imports beat ours
        if time.monotonic() > deadline or not alive(info.get("pid")):
            return None
        time.sleep(0.05)
        info = state(home)
        if info.get("fingerprint") != print_:
            return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(folder(home) / "warm.sock"))
        request = {
            "module": module,
            "argv": list(argv),
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "fingerprint": print_,
        }
        socket.send_fds(sock, [frame(request)], [0, 1, 2])
        started = receive(sock)
    except OSError:
        sock.close()
        return None
    if started is None or "pid" not in started:
        sock.close()
        return None  # refused (for example a stale fingerprint): nothing ran
    return _wait_for(sock, int(started["pid"]))


def _wait_for(sock: socket.socket, pid: int) -> int:
    """Pass signals on to the running command and return its exit code."""

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    while True:
        try:
            done = receive(sock)
            break
        except InterruptedError:
            continue
        except OSError:
            done = None
            break
    sock.close()
    if done is None:
        print("error: the warm worker ended before the command finished", file=sys.stderr)
        return 1
    stats = os.environ.get(STATS_FILE)
    if stats:  # for benchmarks: the peak memory of the process that did the work
        Path(stats).write_text(json.dumps(done))
    return int(done["exit"])


# --- lifecycle -------------------------------------------------------------------------


def ensure_started(home: Path) -> bool:
    """Leave a worker for later runs when none matching this command's setup runs.

    Called at the end of a command-line run, so the worker's imports never
    compete with the run itself. True when one was started.
    """
    env = {k: v for k, v in STARTUP_ENV.items() if k not in VOLATILE | CREDENTIALS}
    if not enabled(env):
        return False
    print_ = fingerprint(env)
    if _matching(home, print_):
        return False
    serve_folder = folder(home)
    # Under the folder's start lock: runs that end at once leave one worker, recorded.
    with locked(serve_folder):
        if _matching(home, print_):
            return False
        stop(home)
        # Its socket's folder to this user; but team mode's cluster under it, run as
        # another user when this is root, must still pass through (execute bit only).
        cluster = serve_folder / "postgres"
        shared = cluster.is_dir() and cluster.stat().st_uid != os.geteuid()
        os.chmod(serve_folder, 0o701 if shared else 0o700)
        module = "deployments.runtime.warm"
        argv = [sys.executable, *_interpreter_options(), "-m", module, str(home), print_]
        # In this working directory: where `-m flows.train` resolved, and its `.env`.
        pid = spawn("warm", argv, env, serve_folder, cwd=Path.cwd())
        write_state(home, {"pid": pid, "fingerprint": print_, "ready": False})
    return True


def _matching(home: Path, print_: str) -> bool:
    info = state(home)
    return info.get("fingerprint") == print_ and alive(info.get("pid"))


def _interpreter_options() -> list[str]:
    options = [f"-W{w}" for w in sys.warnoptions]
    for key, value in sys._xoptions.items():
        options.append(f"-X{key}" if value is True else f"-X{key}={value}")
    return options


def stop(home: Path) -> bool:
    """Stop the warm worker of `home`; True when one was running.

    Commands it is running finish: each runs under its own supervisor, outside
    the worker's process group. Callers hold the folder's start lock
    (`servers.stop`, `ensure_started`), so that no worker starts meanwhile.
    """
    serve_folder = folder(home)
    stopped = end(serve_folder, "warm")
    for name in ("warm.json", "warm.sock"):
        (serve_folder / name).unlink(missing_ok=True)
    return stopped


def status(home: Path) -> str:
    info = state(home)
    if not alive(info.get("pid")):
        return "down"
    return "up" if info.get("ready") else "starting"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m deployments.runtime.warm HOME FINGERPRINT", file=sys.stderr)
        return 2
    from deployments.runtime._warm_server import become, serve

    request = serve(Path(args[0]), args[1])
    if request is None:
        return 0
    import runpy

    become(request)
    runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    return 0


__all__ = [
    "enabled",
    "ensure_started",
    "fingerprint",
    "home_dir",
    "prefect_profiles",
    "process_alive",
    "run_warm",
    "status",
    "stop",
]

if __name__ == "__main__":
    sys.exit(main())
