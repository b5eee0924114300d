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
`PYTHON*`, `AWS_*`, thread and locale settings); otherwise the run happens
in-process as before and a fresh worker replaces the old one. It
stops after an hour without a request, with `make serve-stop`, and is never
started with `MLOPS_WARM_WORKER=false` or `MLOPS_PREFECT_SERVER=temporary`.

This module imports only the standard library: the client side runs before
anything heavy is imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
_VOLATILE = {CHILD_MARKER, STATS_FILE}
# The environment this process started with: commands change theirs (tracking
# URIs, MLflow retry settings) and a worker must match what the next one starts with.
_STARTUP_ENV = dict(os.environ)
_STARTUP_PATH = list(sys.path)  # model loading may add folders to sys.path later
IDLE_SECONDS = 3600.0
READY_TIMEOUT = 90.0
_FALSE = {"0", "false", "no", "off", "n", "f"}


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """True unless MLOPS_WARM_WORKER is false or Prefect runs in temporary mode."""
    env = os.environ if env is None else env
    if env.get("MLOPS_WARM_WORKER", "true").strip().lower() in _FALSE:
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
    env = _STARTUP_ENV if env is None else env
    chosen = sorted(
        (k, v)
        for k, v in env.items()
        if (k.startswith(ENV_PREFIXES) or k in ENV_NAMES) and k not in _VOLATILE
    )
    paths = []
    for entry in _STARTUP_PATH[1:]:  # [0] is the working directory, set per run
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
        "worker": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),  # this code
    }
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:24]


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


def _folder(home: Path) -> Path:
    return home / "serve"


def _state(home: Path) -> dict[str, Any]:
    try:
        info = json.loads((_folder(home) / "warm.json").read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def process_alive(pid: Any) -> bool:
    """Whether `pid` names a running process (one of ours or not)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_state(home: Path, info: dict[str, Any]) -> None:
    path = _folder(home) / "warm.json"
    tmp = path.with_name(f".warm.json.{os.getpid()}")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


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
    info = _state(home)
    if info.get("fingerprint") != print_ or not process_alive(info.get("pid")):
        return None
    deadline = time.monotonic() + READY_TIMEOUT
    while not info.get("ready"):  # started moments ago: its imports beat ours
        if time.monotonic() > deadline or not process_alive(info.get("pid")):
            return None
        time.sleep(0.05)
        info = _state(home)
        if info.get("fingerprint") != print_:
            return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(_folder(home) / "warm.sock"))
        request = {
            "module": module,
            "argv": list(argv),
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "fingerprint": print_,
        }
        socket.send_fds(sock, [_frame(request)], [0, 1, 2])
        started = _receive(sock)
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
            done = _receive(sock)
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


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack("!I", len(body)) + body


def _receive(sock: socket.socket) -> dict[str, Any] | None:
    header = _read_exactly(sock, 4)
    if header is None:
        return None
    body = _read_exactly(sock, struct.unpack("!I", header)[0])
    return None if body is None else json.loads(body)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return chunks


# --- lifecycle -------------------------------------------------------------------------


def ensure_started(home: Path) -> bool:
    """Leave a worker for later runs when none matching this command's setup runs.

    Called at the end of a command-line run, so the worker's imports never
    compete with the run itself. True when one was started.
    """
    env = {k: v for k, v in _STARTUP_ENV.items() if k not in _VOLATILE}
    if not enabled(env):
        return False
    print_ = fingerprint(env)
    info = _state(home)
    if info.get("fingerprint") == print_ and process_alive(info.get("pid")):
        return False
    from blocks.servers import spawn

    stop(home)
    folder = _folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    argv = [sys.executable, *_interpreter_options(), "-m", "blocks.warm", str(home), print_]
    # In this working directory: where `-m flows.train` resolved, and its `.env`.
    pid = spawn("warm", argv, env, folder, cwd=Path.cwd())
    _write_state(home, {"pid": pid, "fingerprint": print_, "ready": False})
    return True


def _interpreter_options() -> list[str]:
    options = [f"-W{w}" for w in sys.warnoptions]
    for key, value in sys._xoptions.items():
        options.append(f"-X{key}" if value is True else f"-X{key}={value}")
    return options


def stop(home: Path) -> bool:
    """Stop the warm worker of `home`; True when one was running.

    Commands it is running finish: each runs under its own supervisor, outside
    the worker's process group.
    """
    from blocks.servers import end

    folder = _folder(home)
    stopped = end(folder, "warm")
    for name in ("warm.json", "warm.sock"):
        (folder / name).unlink(missing_ok=True)
    return stopped


def status(home: Path) -> str:
    info = _state(home)
    if not process_alive(info.get("pid")):
        return "down"
    return "up" if info.get("ready") else "starting"


# --- worker ----------------------------------------------------------------------------


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
    folder = _folder(home)
    path = folder / "warm.sock"
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
    _write_state(home, {"pid": os.getpid(), "fingerprint": print_, "ready": True})
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
    if _state(home).get("pid") == os.getpid():
        for name in ("warm.json", "warm.sock", "warm.pid"):
            (folder / name).unlink(missing_ok=True)
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
        body = _read_exactly(conn, size)
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
    conn.sendall(_frame({"pid": pid}))
    code, maxrss = _watch(conn, pid)
    with contextlib.suppress(OSError):
        conn.sendall(_frame({"exit": code, "maxrss_kb": maxrss}))
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


def _become(request: dict[str, Any]) -> None:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m blocks.warm HOME FINGERPRINT", file=sys.stderr)
        return 2
    request = serve(Path(args[0]), args[1])
    if request is None:
        return 0
    import runpy

    _become(request)
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
