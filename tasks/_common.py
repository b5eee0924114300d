"""Defaults shared by the platform's tasks: the one decorator of an I/O task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task

from libs.errors import InputError

# I/O tasks retry transient failures with growing delays (seconds).
IO_RETRIES = 3
IO_RETRY_DELAYS: list[float] = [1, 4, 10]

P = ParamSpec("P")
R = TypeVar("R")


def refused(exc: BaseException | None) -> bool:
    """Whether `exc` (or what it wraps) is a refused connection: nothing listens there.

    The clients behind an I/O task (MLflow's, boto's, Prefect's) have already
    retried with back-off before the error reaches the task; a server that still
    refuses is down, and the task's own retries would only wait on it (a killed
    MLflow server held a sweep for minutes, a few times over each point).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ConnectionRefusedError) or "Connection refused" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def retry_unless_input_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry transient failures only: bad input fails the same way every time, and a
    server that refuses connections after its client's own retries is down."""
    try:
        state.result()
    except InputError:
        return False
    except Exception as exc:
        return not refused(exc)
    return True


def io_task(name: str, **options: Any) -> Callable[[Callable[P, R]], Task[P, R]]:
    """The decorator of a task that touches storage, MLflow or the network.

    Retried `IO_RETRIES` times with growing delays, except on `InputError`, which
    would fail the same way again. `options` go to `prefect.task` as they are
    (a cache policy, a result serializer...).
    """
    decorator: Callable[[Callable[P, R]], Task[P, R]] = task(
        name=name,
        retries=IO_RETRIES,
        retry_delay_seconds=list(IO_RETRY_DELAYS),
        retry_condition_fn=retry_unless_input_error,
        **options,
    )
    return decorator


__all__ = ["IO_RETRIES", "IO_RETRY_DELAYS", "io_task", "refused", "retry_unless_input_error"]
