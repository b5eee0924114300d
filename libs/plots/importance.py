"""Feature importance: a model-agnostic table and its bar chart.

Permutation importance on the *raw* columns works for any model behind the
same pipeline interface (scikit-learn or Keras) and names features the way
the user's data does, not the way the encoder expanded them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sklearn.base import is_classifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import accuracy_score, r2_score

from libs.plots._inputs import PlotInputError
from libs.plots.style import styled

IMPORTANCE_COLUMNS = ("feature", "importance_mean", "importance_std")
TOP_FEATURES = 20
# The budget of a report's permutation importance: each column costs `n_repeats` scorings of
# the whole pipeline, so a wide table (2000 columns: minutes) would stall a run on its report.
MAX_COLUMNS = 100
MAX_SCORINGS = 300  # columns x repeats; repeats are cut down to fit before columns are refused
REPORT_ROWS = 500  # a report's importance is scored on at most this many test rows (seeded)
# Shuffled copies of the rows are stacked and predicted together, up to this many rows a call:
# one predict call per column and repeat cost more than the rows themselves (a forest's trees).
BATCH_ROWS = 50_000


def _batched_drops(
    estimator: Any, frame: pd.DataFrame, target: np.ndarray, n_repeats: int, seed: int
) -> np.ndarray | None:
    """The score drop (columns x repeats) of each shuffled column, predicted in stacked batches.

    The score is the estimator's own (`score`: accuracy for a classifier, r2 otherwise);
    None when the estimator scores some other way, for the caller to fall back on
    scikit-learn's `permutation_importance`.
    """
    metric = accuracy_score if is_classifier(estimator) else r2_score
    frame = frame.reset_index(drop=True)
    rows = len(frame)
    baseline = float(metric(target, np.asarray(estimator.predict(frame))))
    if not np.isclose(baseline, float(estimator.score(frame, target)), rtol=0.0, atol=1e-12):
        return None
    rng = np.random.default_rng(seed)
    jobs = [(c, r) for c in range(frame.shape[1]) for r in range(n_repeats)]
    drops = np.empty((frame.shape[1], n_repeats))
    per_call = max(1, BATCH_ROWS // rows)
    for start in range(0, len(jobs), per_call):
        chunk = jobs[start : start + per_call]
        parts = []
        for column, _ in chunk:
            part = frame.copy()
            shuffled = frame.iloc[rng.permutation(rows), column].reset_index(drop=True)
            part.isetitem(column, shuffled)
            parts.append(part)
        predicted = np.asarray(estimator.predict(pd.concat(parts, ignore_index=True)))
        for k, (column, repeat) in enumerate(chunk):
            score = float(metric(target, predicted[k * rows : (k + 1) * rows]))
            drops[column, repeat] = baseline - score
    return drops


def permutation_importance_table(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    scoring: Any = None,
    n_repeats: int = 5,
    seed: int = 0,
    max_rows: int = 2000,
) -> pd.DataFrame:
    """Mean and spread of the score drop when each raw column is shuffled, highest first.

    At most `max_rows` rows (a seeded sample) are scored: the cost grows with
    rows x columns x repeats, and the ranking settles long before that. With the
    estimator's own score (`scoring` None) the shuffled copies are predicted in
    stacked batches (`BATCH_ROWS`), the same drops at a fraction of the calls.
    """
    if n_repeats < 1:
        raise PlotInputError(f"n_repeats: must be at least 1, got {n_repeats}")
    if max_rows < 1:
        raise PlotInputError(f"max_rows: must be at least 1, got {max_rows}")
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    target = np.asarray(y)
    if len(frame) == 0:
        raise PlotInputError("X: no rows to compute permutation importance on")
    if len(target) != len(frame):
        raise PlotInputError(f"y: has {len(target)} rows but X has {len(frame)}")
    if len(frame) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(frame), max_rows, replace=False))
        frame, target = frame.iloc[rows], target[rows]
    drops = (
        None if scoring is not None else _batched_drops(estimator, frame, target, n_repeats, seed)
    )
    if drops is None:
        drops = permutation_importance(
            estimator, frame, target, scoring=scoring, n_repeats=n_repeats, random_state=seed
        ).importances
    table = pd.DataFrame(
        {
            "feature": [str(column) for column in frame.columns],
            "importance_mean": drops.mean(axis=1),
            "importance_std": drops.std(axis=1),
        }
    )
    return table.sort_values("importance_mean", ascending=False, kind="stable").reset_index(
        drop=True
    )


def bounded_permutation_importance(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    n_repeats: int = 5,
    seed: int = 0,
    max_columns: int = MAX_COLUMNS,
    max_scorings: int = MAX_SCORINGS,
    max_rows: int = REPORT_ROWS,
) -> tuple[pd.DataFrame | None, str]:
    """Permutation importance within a budget: the table (or None) and a note saying what ran.

    Repeats are lowered until columns x repeats fits `max_scorings`; a table
    wider than `max_columns` is skipped, with the note saying why.
    """
    columns = X.shape[1] if hasattr(X, "shape") and len(X.shape) > 1 else 0
    if columns > max_columns:
        return None, (
            f"skipped: {columns} columns exceed the budget of {max_columns} "
            f"(each column costs {n_repeats} scorings of the model)"
        )
    repeats = max(1, min(n_repeats, max_scorings // max(columns, 1)))
    table = permutation_importance_table(
        estimator, X, y, n_repeats=repeats, seed=seed, max_rows=max_rows
    )
    note = f"{columns} columns x {repeats} repeats"
    if repeats < n_repeats:
        note += f" (lowered from {n_repeats} to stay within {max_scorings} scorings)"
    rows = len(X)
    note += f", on {min(rows, max_rows)} test rows"
    if rows > max_rows:
        note += f" (a seeded sample of {rows})"
    return table, note


def feature_importance_figure(importance: pd.DataFrame, top: int = TOP_FEATURES) -> go.Figure:
    """Horizontal bars with +/- one standard deviation, the most important on top."""
    missing = [c for c in IMPORTANCE_COLUMNS if c not in importance.columns]
    if missing:
        raise PlotInputError(
            f"importance: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(IMPORTANCE_COLUMNS)}"
        )
    if importance.empty:
        raise PlotInputError("importance: no rows")
    shown = importance.sort_values("importance_mean", ascending=False, kind="stable").head(top)
    shown = shown.iloc[::-1]  # plotly draws the first bar at the bottom
    figure = go.Figure(
        go.Bar(
            x=shown["importance_mean"].to_numpy(dtype=float),
            y=shown["feature"].astype(str).tolist(),
            orientation="h",
            error_x={"type": "data", "array": shown["importance_std"].to_numpy(dtype=float)},
            name="importance",
        )
    )
    figure.update_xaxes(title="mean score drop when shuffled")
    figure.update_yaxes(type="category")
    return styled(figure, "Feature importance", height=max(300, 120 + 24 * len(shown)))


__all__ = [
    "IMPORTANCE_COLUMNS",
    "MAX_COLUMNS",
    "MAX_SCORINGS",
    "REPORT_ROWS",
    "TOP_FEATURES",
    "bounded_permutation_importance",
    "feature_importance_figure",
    "permutation_importance_table",
]
