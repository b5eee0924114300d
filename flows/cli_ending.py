"""How a command ends: its exit code and one line, whatever went wrong.

Every command exits 0 on success, 2 with one `error:` line for bad input
(config, data, URIs, credentials), 130 when interrupted, and 1 with one line
for anything else. Bad input that needs neither Prefect nor MLflow to find is
rejected before either is imported (`run_command`'s `check`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from flows.cli_logging import _home, _shown, terminal_logging
from libs.errors import InputError

T = TypeVar("T")


def closed_pipe() -> int:
    """Stop writing to a closed stdout: point it at /dev/null so the exit flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


@contextlib.contextmanager
def _interrupts(seen: threading.Event) -> Iterator[threading.Event]:
    """Ctrl-C raises KeyboardInterrupt as usual, and is also remembered in `seen`.

    Prefect runs some calls inside its own `except BaseException` (a call it
    runs for another thread keeps the exception for that thread), so an
    interrupt that lands there never reaches the command, or comes back as
    another error (one landing while a task run starts ends as "ValueError:
    Task run is not set"). Remembered, it still ends the command as
    interrupted (exit 130).
    """
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        seen.set()
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _disk_full_line(exc: BaseException, what: str) -> str | None:
    """The one line for a disk that filled up during the work: the folder and its free space.

    Found anywhere in the exception's chain (MLflow and Prefect wrap the OSError,
    SQLite says "database or disk is full").
    """
    import errno
    import shutil

    seen: BaseException | None = exc
    for _ in range(10):  # a chain, not a cycle
        if seen is None:
            break
        if (isinstance(seen, OSError) and seen.errno == errno.ENOSPC) or (
            "database or disk is full" in str(seen)
        ):
            where = getattr(seen, "filename", None)
            folder = Path(where).parent if where else (_home() or Path.cwd())
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
            try:
                free = f"{shutil.disk_usage(folder).free / 1024 / 1024:.1f} MB free"
            except OSError:
                free = "free space unknown"
            return (
                f"error: {what} failed: the disk is full under {folder} "
                f"({free}): free some space and run again"
            )
        seen = seen.__cause__ or seen.__context__
    return None


def run_command(
    body: Callable[[], T],
    on_success: Callable[[T], None],
    *,
    what: str,
    verbose: bool = False,
    check: Callable[[], object] | None = None,
) -> int:
    """Run `body` with the terminal's logging in place, report its outcome, return the code.

    `check` runs first, before the terminal's logging imports Prefect and MLflow:
    the command's checks of its arguments, settings and config, so that bad input
    costs a fraction of a second and leaves nothing behind (no log file, no home).
    A failure's line names the log file, where Prefect's and MLflow's lines went.
    """
    log: Path | None = None
    interrupted = threading.Event()
    try:
        with _interrupts(interrupted):
            if check is not None:
                check()
            with terminal_logging(what, verbose) as log:
                result = body()
                if interrupted.is_set():  # Ctrl-C came, but a library swallowed it
                    raise KeyboardInterrupt
                on_success(result)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return closed_pipe()
    except Exception as exc:
        if interrupted.is_set():  # what a library made of the Ctrl-C: still the interrupt
            print("error: interrupted", file=sys.stderr)
            return 130
        line = (
            _disk_full_line(exc, what)
            or (f"error: {what} failed: {type(exc).__name__}: {exc}".splitlines()[0])
        )
        if log is not None and log.exists() and not verbose:
            line += f" (log: {_shown(log)})"
        print(line, file=sys.stderr)
        return 1
    # Skip the interpreter's final garbage collection over the many objects that
    # Prefect, MLflow and scikit-learn leave behind: about a second at exit.
    gc.freeze()
    return 0
