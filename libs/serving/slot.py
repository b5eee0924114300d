"""The model being served, held in a slot that is swapped whole.

A request reads `slot.current` once at its start and scores with that object to
the end: a swap replaces the reference, never the object, so in-flight requests
finish on the version they started with while new ones get the new version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from libs.scoring import ColumnSpec


@dataclass(frozen=True)
class ServedModel:
    """One loaded version: the model (anything with `predict(frame)`), and what checks it."""

    name: str
    version: str
    model: Any
    columns: tuple[ColumnSpec, ...] | None  # None: no column signature, no column check
    input_example: Any = None
    loaded_at: float = 0.0
    run_id: str = ""


@dataclass
class ModelSlot:
    """The served version, replaced atomically; `history` lists the versions it has held."""

    _current: ServedModel
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    history: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.history.append(self._current.version)

    @property
    def current(self) -> ServedModel:
        return self._current

    def swap(self, new: ServedModel) -> ServedModel:
        """Serve `new` from the next request on; returns the version it replaced."""
        with self._lock:
            old, self._current = self._current, new
            self.history.append(new.version)
        return old


__all__ = ["ModelSlot", "ServedModel"]
