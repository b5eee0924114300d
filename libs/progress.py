"""One terminal progress bar (on stderr) for the commands: rows scored, sweep points done.

Imports `rich` only when a bar is drawn, so a command that draws none stays light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def progress_bar(
    label: str, total: int | None, *, fields: str = "", enabled: bool = True
) -> Iterator[Callable[..., None]]:
    """A bar of `total` steps; yields `advance(steps=1, **counts)`.

    `fields` is a rich format string drawn after the count, naming counts the
    caller passes to `advance` (e.g. `"failed: {task.fields[failed]}"`); every
    count it names starts at 0. Disabled, it yields a no-op.
    """
    if not enabled:
        yield lambda steps=1, **counts: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns: list[Any] = [TextColumn(label), BarColumn(), MofNCompleteColumn()]
    if fields:
        columns.append(TextColumn(fields))
    columns.append(TimeElapsedColumn())
    names = [part.split("]")[0] for part in fields.split("{task.fields[")[1:]]
    start: dict[str, Any] = dict.fromkeys(names, 0)
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
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


__all__ = ["counting_bar", "progress_bar"]
