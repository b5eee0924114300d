"""A command's terminal logging: Prefect's and MLflow's lines go to one log file.

The progress bar owns the bottom line, so Prefect's and MLflow's log lines go
to a file under `<MLOPS_HOME>/logs/` (the summary names it), or, with
`-v/--verbose`, print above the bar through the same console. Imported only
once a command's input is checked: it imports Prefect and MLflow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from libs.errors import InputError

_LOG_FORMAT = "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s"
_active_log: list[Path] = []  # the log file of the command running in this process


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


def _home() -> Path | None:
    """This process's MLOPS_HOME, or None when the settings do not validate."""
    from pydantic import ValidationError

    from libs.settings import PlatformSettings

    try:
        return PlatformSettings().home_dir
    except (ValidationError, OSError):
        return None
