"""The commands' terminal: one console on stderr, its progress bar, and log lines above it.

Every bar and every log line a command shows goes through `terminal_console()`,
so rich keeps the bar on the bottom line and prints each log line above it
(a second console, or a handler holding the raw stderr, would write over the
bar and glue lines to it). Imports `rich` only when a console is needed, so a
command that draws none stays light.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any


@functools.cache
def terminal_console() -> Any:
    """The one rich Console (on stderr) that bars and on-screen log lines share."""
    from rich.console import Console

    return Console(stderr=True)


def log_handler(level: int) -> Any:
    """A logging handler printing through the shared console: above a bar, never on it."""
    from rich.logging import RichHandler

    return RichHandler(
        level=level,
        console=terminal_console(),
        show_path=False,
        rich_tracebacks=False,
        markup=False,
        log_time_format="%H:%M:%S",
    )


@contextlib.contextmanager
def progress_bar(
    label: str, total: int | None, *, fields: str = "", enabled: bool = True
) -> Iterator[Callable[..., None]]:
    """A bar of `total` steps; yields `advance(steps=1, **counts)`.

    `fields` is a rich format string drawn after the count, naming counts the
    caller passes to `advance` (e.g. `"failed: {task.fields[failed]}"`); every
    count it names starts at 0. Disabled, it yields a no-op. With no `total`
    (not knowable up front) it counts without a `/?`.
    """
    if not enabled:
        yield lambda steps=1, **counts: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    count: Any = MofNCompleteColumn() if total is not None else TextColumn("{task.completed}")
    columns: list[Any] = [
        TextColumn(label),
        BarColumn() if total is not None else SpinnerColumn(),
        count,
    ]
    if fields:
        columns.append(TextColumn(fields))
    columns.append(TimeElapsedColumn())
    names = [part.split("]")[0] for part in fields.split("{task.fields[")[1:]]
    start: dict[str, Any] = dict.fromkeys(names, 0)
    with Progress(*columns, console=terminal_console(), transient=False) as progress:
        job = progress.add_task(label, total=total, **start)

        def advance(steps: int = 1, **counts: Any) -> None:
            progress.update(job, advance=steps, **counts)

        yield advance


@contextlib.contextmanager
def counting_bar(
    label: str, total: int | None, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """`progress_bar` without counts: yields `advance(n)` (items done out of `total`)."""
    with progress_bar(label, total, enabled=enabled) as advance:
        yield lambda n: advance(n)


__all__ = ["counting_bar", "log_handler", "progress_bar", "terminal_console"]
