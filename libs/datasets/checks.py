"""Checks on a table right after it is read, before any snapshot or run exists.

The config pass (`flows.config.train.check_train_config`) knows everything that can
be known without data; what only the data can tell is checked here (duplicate
column names are refused where the table is read, `libs.io.read_table`):
infinite values, too few rows for the split, and whether the
task the target implies is one the configured model and metrics can serve.

Minimum sizes, decided once: a table needs at least `MIN_ROWS` rows, the
held-out split at least `MIN_TEST_ROWS` and the training split at least
`MIN_TRAIN_ROWS`; for classification every class needs two rows (one to
train on, one to test on) and the test split at least one row per class. A
3-row table would otherwise train, score on one row and could become
champion on a metric that means nothing.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from libs.datasets.spec import TaskType
from libs.errors import InputError

MIN_ROWS = 10
MIN_TEST_ROWS = 2
MIN_TRAIN_ROWS = 5
_SHOWN = 5


class DataRules(BaseModel):
    """What the run's config asks of the data, known before it is read.

    `refused` maps a task to the one-line reason the configured model or
    metrics cannot serve it (e.g. `model.name: 'ridge' does not support
    classification`); `test_size` (the split's) gives the minimum-size checks.
    The seed is left out on purpose: these rules are part of the ingest cache key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    refused: dict[str, str] = Field(default_factory=dict)
    test_size: float = Field(0.2, gt=0.0, lt=1.0)


def check_finite(frame: pd.DataFrame, source: str) -> None:
    """Refuse infinite values in numeric columns, naming the column (missing values are fine:
    the feature pipeline imputes them)."""
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_float_dtype(series.dtype):
            continue
        values = series.to_numpy(dtype=float, na_value=np.nan)
        infinite = np.isinf(values)
        if infinite.any():
            first = int(np.argmax(infinite))
            raise InputError(
                f"{source}: column '{column}' has {int(infinite.sum())} infinite value(s) "
                f"(first at row {first + 1}); replace them or list the column in features.drop"
            )


def check_sizes(y: pd.Series, task: TaskType, test_size: float, source: str) -> None:
    """Enough rows for a meaningful split, and for classification enough of every class."""
    rows = len(y)
    if rows < MIN_ROWS:
        raise InputError(
            f"{source}: {rows} rows; training needs at least {MIN_ROWS} "
            f"({MIN_TRAIN_ROWS} to train on, {MIN_TEST_ROWS} to test on)"
        )
    n_test = math.ceil(test_size * rows)
    if n_test < MIN_TEST_ROWS or rows - n_test < MIN_TRAIN_ROWS:
        raise InputError(
            f"split.test_size: {test_size} of {rows} rows leaves {n_test} to test and "
            f"{rows - n_test} to train; need at least {MIN_TEST_ROWS} and {MIN_TRAIN_ROWS}"
        )
    if task != "classification":
        return
    counts = y.value_counts()
    rare = counts[counts < 2]
    if len(rare):
        shown = ", ".join(f"{label!r}" for label in list(rare.index)[:_SHOWN])
        raise InputError(
            f"{source}: target column '{y.name}' has {len(rare)} class(es) with a single row "
            f"({shown}); every class needs at least 2 rows (one to train on, one to test on)"
        )
    if n_test < len(counts):
        raise InputError(
            f"split.test_size: {test_size} of {rows} rows holds out {n_test} rows, fewer "
            f"than the {len(counts)} classes of '{y.name}'; raise test_size or add rows"
        )


def check_task(task: TaskType, rules: DataRules, target: str, source: str) -> None:
    """The task the data implies must be one the configured model and metrics serve."""
    reason = rules.refused.get(task)
    if reason is not None:
        raise InputError(f"{source}: target '{target}' makes this a {task} task, but {reason}")


_LISTED = 20  # columns named in a missing-column message, at most


def missing_column_message(
    field: str, name: str, columns: Sequence[object], source: str | None = None
) -> str:
    """`data.target: column 'churn' not found in x.csv; did you mean 'churned'? (columns: ...)`.

    The closest column by spelling (`difflib`, case ignored) when one is close,
    then the table's columns (the first twenty of a wide one).
    """
    names = [str(column) for column in columns]
    lowered = {n.lower(): n for n in reversed(names)}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    hint = f"; did you mean '{lowered[close[0]]}'?" if close else ""
    listed = ", ".join(names[:_LISTED])
    if len(names) > _LISTED:
        listed += f", ... ({len(names)} in all)"
    where = f" in {source}" if source else ""
    return f"{field}: column '{name}' not found{where}{hint} (columns: {listed or 'none'})"


def check_columns(
    frame: pd.DataFrame,
    target: str,
    declared: Mapping[str, Sequence[str] | None],
    source: str | None = None,
) -> None:
    """The target and every declared feature column are in the table, before any other check.

    `declared` maps a role (`numeric`, `categorical`, `datetime`) to its listed
    columns; a missing one is named by its config field, with the closest match.
    """
    wanted = [("data.target", target)]
    wanted += [
        (f"features.{role}.columns", name)
        for role, names in declared.items()
        for name in names or ()
    ]
    present = {str(column) for column in frame.columns}
    for field, name in wanted:
        if name not in present:
            raise InputError(missing_column_message(field, name, list(frame.columns), source))


def check_data(
    frame: pd.DataFrame,
    target: str,
    task: TaskType,
    rules: DataRules,
    source: str,
    *,
    sizes: bool = True,
) -> None:
    """Every data-level check, in the order a user would fix them (`sizes=False` skips the
    split-size checks when the split is not known)."""
    check_task(task, rules, target, source)
    check_finite(frame, source)
    if sizes:
        check_sizes(frame[target], task, rules.test_size, source)


__all__ = [
    "MIN_ROWS",
    "MIN_TEST_ROWS",
    "MIN_TRAIN_ROWS",
    "DataRules",
    "check_columns",
    "check_data",
    "check_finite",
    "check_sizes",
    "check_task",
    "missing_column_message",
]
