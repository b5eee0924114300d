"""A terminal progress bar on stderr, or a no-op: what a long step shows a person."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def counting_bar(
    label: str, total: int | None, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """A rich bar of items done out of `total` (unknown: None); yields `advance(n)`.

    Disabled, it draws nothing and `advance` does nothing, so a caller need not branch.
    """
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        job = bar.add_task(label, total=total)
        yield lambda n: bar.advance(job, n)


__all__ = ["counting_bar"]
