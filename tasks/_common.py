"""Defaults shared by the platform's tasks."""

from __future__ import annotations

from typing import Any

from libs.errors import InputError

# I/O tasks retry transient failures with growing delays (seconds).
IO_RETRIES = 3
IO_RETRY_DELAYS: list[float] = [1, 4, 10]


def retry_unless_input_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry transient failures only: bad input fails the same way every time."""
    try:
        state.result()
    except InputError:
        return False
    except Exception:
        return True
    return True


__all__ = ["IO_RETRIES", "IO_RETRY_DELAYS", "retry_unless_input_error"]
