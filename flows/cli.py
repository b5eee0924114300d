"""What the platform's commands share: config arguments and one way to end.

Every command exits 0 on success, 2 with one `error:` line for bad input
(config, data, URIs, credentials), 130 when interrupted, and 1 with one line
for anything else. Importing this module is cheap: `--help` stays instant.

The terminal has one output layer: the progress bar owns the bottom line, and
Prefect's and MLflow's log lines go to a file under `<MLOPS_HOME>/logs/` (the
summary names it), or, with `-v/--verbose`, print above the bar through the
same console. A closed pipe (`--print-schema | head`) ends the command quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from libs.errors import InputError

T = TypeVar("T")

_LOG_FORMAT = "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s"
_active_log: list[Path] = []  # the log file of the command running in this process


def add_config_arguments(
    parser: argparse.ArgumentParser, *, config_help: str, example: str
) -> None:
    """`--config FILE`, repeatable `--set KEY=VALUE` and `--print-schema`."""
    parser.add_argument("--config", metavar="FILE", help=config_help)
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help=f"override one field, e.g. --set {example} (repeatable)",
    )
    parser.add_argument(
        "--print-schema", action="store_true", help="print the config's JSON schema and exit"
    )
    add_output_arguments(parser)


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The output flags every command takes alike: `--no-progress` and `-v/--verbose`.

    A command that draws no bar (training, lineage) takes `--no-progress` too, so one
    set of flags works everywhere (a script or CI passes the same ones to each).
    """
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="do not draw a progress bar (for logs and CI; a command without a bar accepts it)",
    )
    add_verbose_argument(parser)


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """`-v/--verbose`: Prefect's and MLflow's log lines on screen, above the bar."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show Prefect's and MLflow's log lines (by default they go to <MLOPS_HOME>/logs/)",
    )


class _LazyFileHandler(logging.FileHandler):
    """A log file whose folder and file appear with the first line (a bad config makes none).

    A folder that cannot be made (MLOPS_HOME is a file, say) drops the lines
    instead of failing the command: its own check then names the setting.
    """

    unwritable = False

    def _open(self) -> Any:
        try:
            Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
            return super()._open()
        except OSError:
            self.unwritable = True
            return None

    def emit(self, record: logging.LogRecord) -> None:
        if not self.unwritable:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """A write that fails (the disk full) stops the file's lines, once and quietly.

        logging would print `--- Logging error ---` and a traceback for every later
        line (thousands in a run); the command's own outcome is what the terminal shows.
        """
        if isinstance(sys.exc_info()[1], OSError):
            self.unwritable = True
            return
        super().handleError(record)

    def close(self) -> None:
        """Closed even when its last lines cannot be flushed (the disk full): the
        command's outcome, not this, is what it ends with."""
        try:
            super().close()
        except OSError:
            self.unwritable = True


def _is_console(handler: logging.Handler) -> bool:
    """A handler writing to the terminal (stderr or stdout), which would write over a bar."""
    return isinstance(handler, logging.StreamHandler) and not isinstance(
        handler, logging.FileHandler
    )


def _loggers() -> list[logging.Logger]:
    named = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    return [logging.getLogger(), *named]


def _prefect_formatter(fmt: str) -> logging.Formatter:
    """Prefect's own line format: a run's lines say `Flow run 'name'` / `Task run 'name'`."""
    from prefect.logging.formatters import PrefectFormatter

    prefix = fmt.split("%(name)s - ", 1)[0]
    return PrefectFormatter(
        format=fmt,
        flow_run_fmt=prefix + "Flow run %(flow_run_name)r - %(message)s",
        task_run_fmt=prefix + "Task run %(task_run_name)r - %(message)s",
        datefmt="%H:%M:%S",
    )


_MLFLOW_PRINTS = {
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


@contextlib.contextmanager
def terminal_logging(command: str, verbose: bool) -> Iterator[Path]:
    """Route every terminal log handler to one log file (and, verbose, above the bar).

    Prefect and MLflow are imported first: each installs its console handlers
    when imported, and those are the ones replaced. Prefect's API handler stays,
    so the Prefect UI still shows the run's logs. Restored on exit.
    """
    import prefect.main  # noqa: F401  (configures Prefect's logging; `import prefect` defers it)

    import tasks.tracking  # noqa: F401  (imports MLflow, which installs its handlers)
    from libs.progress import log_handler

    # Settings that do not validate (MLOPS_PREFECT_SERVER=bogus) are the command's
    # own one-line error (`check_environment`); its log file then goes nowhere.
    home = _home() or Path(os.devnull)
    folder = home / "logs"
    fresh = [p for p in (home, folder) if not p.exists()]  # bad input leaves neither behind
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{command}-{stamp}-{os.getpid()}.log"
    to_file = _LazyFileHandler(path, encoding="utf-8", delay=True)
    to_file.setFormatter(_prefect_formatter(_LOG_FORMAT))
    ours: list[logging.Handler] = [to_file]
    if verbose:  # rich draws the time and the level itself
        screen = log_handler(logging.NOTSET)
        screen.setFormatter(_prefect_formatter("%(name)s - %(message)s"))
        ours.append(screen)
    saved: list[tuple[logging.Logger, list[logging.Handler]]] = []
    for logger in _loggers():
        if any(_is_console(h) for h in logger.handlers):
            saved.append((logger, list(logger.handlers)))
            logger.handlers = [h for h in logger.handlers if not _is_console(h)] + ours
    captured = logging.captureWarnings  # warnings (SQLAlchemy's, MLflow's) are log lines too
    captured(True)
    # MLflow prints "View run ..." on stdout and "Downloading artifacts" bars on stderr
    # itself, not through logging: off unless verbose.
    quiet = {name: os.environ.get(name) for name in _MLFLOW_PRINTS}
    if not verbose:
        os.environ.update(_MLFLOW_PRINTS)
    _active_log.append(path)
    try:
        yield path
    except InputError:
        # One `error:` line says it all; a log file would be the only trace of the
        # command (a config error must leave no folder, not even the home).
        to_file.close()
        with contextlib.suppress(OSError):  # a home that is a file has no log below it
            path.unlink(missing_ok=True)
        for made in reversed(fresh):
            with contextlib.suppress(OSError):
                made.rmdir()  # only when empty: what else ran keeps its state
        raise
    finally:
        _active_log.remove(path)
        captured(False)
        for logger, handlers in saved:
            logger.handlers = handlers
        to_file.close()
        for name, before in quiet.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before


@contextlib.contextmanager
def api_logging(what: str, verbose: bool = False) -> Iterator[Path | None]:
    """The Python API's logging: as quiet as the command line unless `verbose`.

    Quiet, Prefect's and MLflow's lines go to the same log file a command would
    write (`<MLOPS_HOME>/logs/<what>-...log`, yielded); verbose, logging stays
    as the caller set it up (a notebook shows every INFO line).
    """
    if verbose:
        yield None
        return
    with terminal_logging(what, False) as path:
        yield path


def active_log() -> Path | None:
    """The log file of the command running now (None outside one)."""
    return _active_log[-1] if _active_log else None


def _shown(path: Path) -> str:
    """A path relative to here when below it (as a person would type it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_module_main(module: str, main: Callable[[], int]) -> int:
    """`python -m module`: handed to the warm worker when one matches, else run here.

    A reader that closes the pipe early (`--print-schema | head`) ends it with
    exit 0 and no traceback, as `cat` would.
    """
    from deployments.runtime.warm import run_warm

    try:
        code = run_warm(module, sys.argv[1:])
        result = main() if code is None else code
        sys.stdout.flush()
    except BrokenPipeError:
        return closed_pipe()
    return result


def closed_pipe() -> int:
    """Stop writing to a closed stdout: point it at /dev/null so the exit flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


def print_summary(title: str, rows: Sequence[tuple[str, str] | str]) -> None:
    """The block every command ends with: a title, then `label: value` rows in one column.

    A row given as a plain string is printed as it is (indented like the others).
    A command running under `terminal_logging` adds a last row naming its log file.
    """
    log = active_log()
    if log is not None and log.exists():
        rows = [*rows, _log_row(rows, _shown(log))]
    lines = ["", title]
    for row in rows:
        lines.append(f"  {row}" if isinstance(row, str) else f"  {row[0] + ':':<18}{row[1]}")
    print("\n".join(lines), flush=True)


def _log_row(rows: Sequence[tuple[str, str] | str], path: str) -> tuple[str, str] | str:
    """The `Log:` row, aligned with rows the caller formatted itself (plain strings)."""
    if rows and all(isinstance(row, str) for row in rows):
        first = str(rows[0])
        label, _, value = first.partition(":")
        if value:
            width = len(label) + 1 + len(value) - len(value.lstrip())
            return f"{'Log:':<{width}}{path}"
    return ("Log", path)


def run_in_flow(flow_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """Run a flow; returns its result and the Prefect UI page of its flow run.

    The page only when a Prefect server outlives the command (a temporary
    server's pages are gone when it exits).
    """
    from prefect.settings import get_current_settings

    state = flow_fn(*args, return_state=True, **kwargs)
    result = state.result()  # a failed run raises its own exception here
    api = get_current_settings().api.url
    flow_run_id = state.state_details.flow_run_id
    url = f"{api.removesuffix('/api')}/runs/flow-run/{flow_run_id}" if api and flow_run_id else None
    return result, url


def _home() -> Path | None:
    """This process's MLOPS_HOME, or None when the settings do not validate."""
    from pydantic import ValidationError

    from libs.settings import PlatformSettings

    try:
        return PlatformSettings().home_dir
    except (ValidationError, OSError):
        return None


def live_links(run_url: str | None, flow_run_url: str | None) -> tuple[str | None, str | None]:
    """(the run page on the server that serves it now, the flow-run page if its server
    knows it); None for each that no server of ours answers for."""
    from deployments.runtime.servers import live_flow_run_url, live_run_url

    run = live_run_url(run_url, _home()) if run_url else None
    flow_run = live_flow_run_url(flow_run_url) if flow_run_url else None
    return run, flow_run


def link_rows(run_url: str, ui_command: str, flow_run_url: str | None) -> list[tuple[str, str]]:
    """The run's links: each opens what it names on our server, else the command that opens it.

    One place for every command (`deployments.runtime.links`): the run's page on
    the server that serves that run now (`make serve`'s, on whatever port it
    got), never on a port where something else answers.
    """
    from deployments.runtime.servers import live_flow_run_url, run_page

    home = _home()
    rows = [("Run page", run_page(run_url, ui_command, home))]
    if flow_run_url and live_flow_run_url(flow_run_url):
        rows.append(("Prefect run", flow_run_url))
    return rows


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
) -> int:
    """Run `body` with the terminal's logging in place, report its outcome, return the code.

    A failure's line names the log file, where Prefect's and MLflow's lines went.
    """
    log: Path | None = None
    interrupted = threading.Event()
    try:
        with _interrupts(interrupted), terminal_logging(what, verbose) as log:
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


__all__ = [
    "active_log",
    "add_config_arguments",
    "add_output_arguments",
    "add_verbose_argument",
    "api_logging",
    "closed_pipe",
    "link_rows",
    "live_links",
    "print_summary",
    "run_command",
    "run_in_flow",
    "run_module_main",
    "terminal_logging",
]
