"""Effects and ANOVA on a coded design and its measured responses.

Inputs are the `coded` frame of a `Design` (rows of the runs that finished)
and one response per row. Columns are fitted as numeric coded variables, the
usual regression view of a two-level design.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from libs.errors import InputError

log = logging.getLogger(__name__)

Response: TypeAlias = Sequence[float] | np.ndarray | pd.Series


def check_inputs(coded: pd.DataFrame, y: Response) -> tuple[pd.DataFrame, np.ndarray]:
    """Validate a coded frame and its responses; return them index-aligned by position."""
    if not isinstance(coded, pd.DataFrame) or coded.shape[1] == 0:
        raise InputError("coded: expected a DataFrame with one column per factor")
    values = np.asarray(y, dtype=float).ravel()
    if len(values) != len(coded):
        raise InputError(f"y: {len(values)} responses for {len(coded)} design rows")
    if not np.all(np.isfinite(values)):
        bad = [int(i) for i in np.flatnonzero(~np.isfinite(values))]
        raise InputError(f"y: responses must be finite numbers; rows {bad} are not")
    for name in coded.columns:
        if not pd.api.types.is_numeric_dtype(coded[name]):
            raise InputError(f"coded column {name!r} is not numeric")
        if coded[name].nunique() < 2:
            raise InputError(f"coded column {name!r} is constant, so it has no effect to estimate")
    return coded.reset_index(drop=True).astype(float), values


def _contrast(x: np.ndarray, y: np.ndarray) -> float | None:
    high, low = np.isclose(x, 1.0), np.isclose(x, -1.0)
    if not high.any() or not low.any():
        return None
    return float(y[high].mean() - y[low].mean())


def main_effects(coded: pd.DataFrame, y: Response) -> pd.Series:
    """Mean response at +1 minus mean at -1, per factor.

    Rows at other levels (centre, axial) are left out. Columns with no runs at
    both -1 and +1 are skipped; if none has them the design is not factorial
    and this is an error.
    """
    frame, values = check_inputs(coded, y)
    effects = {
        name: e
        for name in frame.columns
        if (e := _contrast(frame[name].to_numpy(), values)) is not None
    }
    if not effects:
        raise InputError("coded: no column has runs at both -1 and +1, so no main effect exists")
    return pd.Series(effects, name="main_effect", dtype=float)


def interaction_effects(coded: pd.DataFrame, y: Response) -> pd.Series:
    """Two-factor interaction effects: the main-effect contrast of each product column.

    Indexed 'A:B'. In a fractional design an interaction is aliased with other
    effects; the estimate is that of the whole alias chain.
    """
    frame, values = check_inputs(coded, y)
    if frame.shape[1] < 2:
        raise InputError("coded: interactions need at least two factors")
    effects = {}
    for a, b in itertools.combinations(frame.columns, 2):
        e = _contrast(frame[a].to_numpy() * frame[b].to_numpy(), values)
        if e is not None:
            effects[f"{a}:{b}"] = e
    if not effects:
        raise InputError("coded: no pair of columns has runs at both -1 and +1")
    return pd.Series(effects, name="interaction_effect", dtype=float)


def _fit(frame: pd.DataFrame, values: np.ndarray, interactions: bool):
    # Factor names are dotted config paths, not formula identifiers: fit on
    # x0, x1, ... and rename the rows of the table afterwards.
    safe = {f"x{i}": name for i, name in enumerate(frame.columns)}
    data = frame.set_axis(list(safe), axis=1).assign(y=values)
    terms = list(safe)
    if interactions:
        terms += [f"{a}:{b}" for a, b in itertools.combinations(safe, 2)]
    model = smf.ols("y ~ " + " + ".join(terms), data=data).fit()
    return model, safe


def _residual_df(frame: pd.DataFrame, interactions: bool) -> int:
    """Runs minus the rank of the model matrix, checked before fitting a saturated model."""
    x = frame.to_numpy()
    cols = [np.ones(len(x)), *x.T]
    if interactions:
        cols += [x[:, i] * x[:, j] for i, j in itertools.combinations(range(x.shape[1]), 2)]
    return len(x) - int(np.linalg.matrix_rank(np.column_stack(cols)))


def anova_table(coded: pd.DataFrame, y: Response, interactions: bool = True) -> pd.DataFrame:
    """Type II ANOVA of an OLS fit on the coded factors (+ two-factor interactions).

    A saturated design leaves no residual degrees of freedom for an F test;
    then interactions are dropped and the table's `attrs["note"]` says so
    (`attrs["interactions"]` tells what was fitted). If even the main-effects
    model is saturated, there is nothing to test and this is an error.
    """
    frame, values = check_inputs(coded, y)
    note = ""
    use_interactions = interactions and frame.shape[1] >= 2
    if use_interactions and _residual_df(frame, interactions=True) < 1:
        note = (
            f"interactions dropped: {len(values)} runs leave no residual degrees of freedom "
            f"for the model with two-factor interactions"
        )
        log.info(note)
        use_interactions = False
    if _residual_df(frame, interactions=use_interactions) < 1:
        raise InputError(
            f"coded: {len(values)} runs leave no residual degrees of freedom for "
            f"{frame.shape[1]} main effects; ANOVA needs more runs than model terms"
        )
    model, safe = _fit(frame, values, use_interactions)
    table = anova_lm(model, typ=2)

    def rename(term: str) -> str:
        return ":".join(safe.get(part, part) for part in term.split(":"))

    table.index = [rename(t) for t in table.index]
    table.attrs["interactions"] = use_interactions
    table.attrs["note"] = note
    return table


__all__ = ["anova_table", "check_inputs", "interaction_effects", "main_effects"]
