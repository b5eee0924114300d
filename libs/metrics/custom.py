"""Your own metric functions by import path, computed beside the task's metric set.

`metrics: {custom: [mypkg.scores.profit]}`: each is called as
`fn(y_true, y_pred)` on the test rows and logged under the function's name.
Each is checked before any work on four rows: it must import, be callable and
return a real number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from libs.errors import InputError
from libs.metrics.sets import known_metrics
from libs.models.imports import import_function
from libs.models.spec import IMPORT_PATH

_PROBE_TRUE = np.array([0, 1, 1, 0])
_PROBE_PRED = np.array([0, 1, 0, 0])


class MetricsSpec(BaseModel):
    """Metrics computed besides the task's set (which the gate and sweeps choose from)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    custom: list[Annotated[str, Field(pattern=IMPORT_PATH)]] = Field(
        default=[],
        description="Import paths of functions fn(y_true, y_pred) -> number, logged "
        "under the function's name (e.g. mypkg.scores.profit).",
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real | np.number):
        return None
    return float(value)


def load_metrics(paths: list[str], field: str = "metrics.custom") -> dict[str, Callable[..., Any]]:
    """name -> function for each path, each checked on a four-row probe; InputError else."""
    loaded: dict[str, Callable[..., Any]] = {}
    builtin = set(known_metrics())
    for index, path in enumerate(paths):
        where = f"{field}.{index}"
        fn = import_function(path, where)
        name = getattr(fn, "__name__", path.rsplit(".", 1)[-1])
        if name in builtin or name in loaded:
            raise InputError(f"{where}: '{path}' is called '{name}', a metric already computed")
        try:
            value = fn(_PROBE_TRUE, _PROBE_PRED)
        except Exception as exc:
            raise InputError(
                f"{where}: '{path}'(y_true, y_pred) failed on a four-row check: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if _number(value) is None:
            raise InputError(
                f"{where}: '{path}' returned {type(value).__name__} {value!r}, not a number"
            )
        loaded[name] = fn
    return loaded


def custom_metrics(paths: list[str], y_true: Any, y_pred: Any) -> dict[str, float]:
    """Each function's value on these rows (NaN when it returns no number here)."""
    values: dict[str, float] = {}
    for name, fn in load_metrics(paths).items():
        number = _number(fn(np.asarray(y_true), np.asarray(y_pred)))
        values[name] = number if number is not None else math.nan
    return values


__all__ = ["MetricsSpec", "custom_metrics", "load_metrics"]
