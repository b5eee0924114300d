"""What a model costs: training time, prediction latency per row, serialized size.

Every training run logs these beside its quality metrics, so a sweep can
trade accuracy against time and size (several responses, desirability).
They are measurements, not scores, and lower is better for all three. The
size does not depend on the machine; the prediction latency is the median of
repeated predictions, which a busy machine moves far less than one timing;
the training time is one wall-clock timing, noisy on a busy machine.
"""

from __future__ import annotations

import pickle
import statistics
import time
from collections.abc import Callable
from typing import Any

TRAIN_SECONDS = "train_seconds"
PREDICT_MS_PER_ROW = "predict_ms_per_row"
MODEL_SIZE_BYTES = "model_size_bytes"
COST_METRICS = (TRAIN_SECONDS, PREDICT_MS_PER_ROW, MODEL_SIZE_BYTES)


def serialized_size(model: Any) -> int | None:
    """Bytes of the fitted model pickled (None when it cannot be pickled)."""
    try:
        return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # a framework object without pickle support: no size, no failure
        return None


LATENCY_REPEATS = 5
LATENCY_BUDGET_SECONDS = 0.5


def median_seconds(
    call: Callable[[], Any],
    first: float,
    repeats: int = LATENCY_REPEATS,
    budget: float = LATENCY_BUDGET_SECONDS,
) -> float:
    """The median time of `call`, given a `first` timing: repeated up to `repeats` timings
    in all while the repeats have taken less than `budget` seconds (a slow model is
    timed fewer times, never for long)."""
    timings = [first]
    spent = 0.0
    while len(timings) < repeats and spent < budget:
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        timings.append(elapsed)
        spent += elapsed
    return statistics.median(timings)


def cost_metrics(
    train_seconds: float | None, predict_seconds: float, rows: int, size: int | None
) -> dict[str, float]:
    """The cost metrics of one run as plain floats (a value not measured is left out)."""
    out: dict[str, float] = {}
    if train_seconds is not None:
        out[TRAIN_SECONDS] = float(train_seconds)
    if rows > 0:
        out[PREDICT_MS_PER_ROW] = 1000.0 * float(predict_seconds) / rows
    if size is not None:
        out[MODEL_SIZE_BYTES] = float(size)
    return out


__all__ = [
    "COST_METRICS",
    "MODEL_SIZE_BYTES",
    "PREDICT_MS_PER_ROW",
    "TRAIN_SECONDS",
    "cost_metrics",
    "median_seconds",
    "serialized_size",
]
