"""Effects and ANOVA on a coded design and its measured responses.

Inputs are the `coded` frame of a `Design` (rows of the runs that finished)
and one response per row. Numeric columns are fitted as coded variables, the
usual regression view of a two-level design; categorical ones (named, or
taken from a factor space) as dummy-coded terms, or refused where a single
contrast cannot describe them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

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


def _categorical(frame: pd.DataFrame, categorical: Collection[str] | None, space: Any) -> set[str]:
    """The categorical columns: named, or categorical in the factor space."""
    from libs.doe.space import CategoricalFactor

    cats = set(categorical or ())
    if space is not None:
        cats |= {
            n
            for n in frame.columns
            if n in space.names and isinstance(space.factor(n), CategoricalFactor)
        }
    unknown = sorted(cats - set(frame.columns))
    if categorical and unknown:
        raise InputError(f"categorical: {', '.join(unknown)} is not a column of coded")
    return cats & set(frame.columns)


def _refuse_multilevel(frame: pd.DataFrame, cats: set[str], helper: str) -> None:
    for name in frame.columns:
        k = frame[name].round(9).nunique()
        if name in cats and k > 2:
            raise InputError(
                f"{helper}: factor {name!r} is categorical with {k} levels, which one "
                "-1/+1 contrast cannot describe; use anova_table(..., categorical=[...]) or "
                "libs.doe.analyse"
            )


def main_effects(
    coded: pd.DataFrame,
    y: Response,
    *,
    categorical: Collection[str] | None = None,
    space: Any = None,
) -> pd.Series:
    """Mean response at +1 minus mean at -1, per factor.

    Rows at other levels (centre, axial) are left out. Columns with no runs at
    both -1 and +1 are skipped; if none has them the design is not factorial
    and this is an error. A categorical factor (named in `categorical`, or
    categorical in the `space`) with more than two levels has no single
    effect, and is refused.
    """
    frame, values = check_inputs(coded, y)
    _refuse_multilevel(frame, _categorical(frame, categorical, space), "main_effects")
    effects = {
        name: e
        for name in frame.columns
        if (e := _contrast(frame[name].to_numpy(), values)) is not None
    }
    if not effects:
        raise InputError("coded: no column has runs at both -1 and +1, so no main effect exists")
    return pd.Series(effects, name="main_effect", dtype=float)


def interaction_effects(
    coded: pd.DataFrame,
    y: Response,
    *,
    categorical: Collection[str] | None = None,
    space: Any = None,
) -> pd.Series:
    """Two-factor interaction effects: the main-effect contrast of each product column.

    Indexed 'A:B'. In a fractional design an interaction is aliased with other
    effects; the estimate is that of the whole alias chain. Multi-level
    categorical factors are refused as in `main_effects`.
    """
    frame, values = check_inputs(coded, y)
    _refuse_multilevel(frame, _categorical(frame, categorical, space), "interaction_effects")
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


def anova_table(
    coded: pd.DataFrame,
    y: Response,
    interactions: bool = True,
    *,
    categorical: Collection[str] | None = None,
    space: Any = None,
) -> pd.DataFrame:
    """ANOVA of an OLS fit on the coded factors (+ two-factor interactions), full rank.

    A categorical factor (named in `categorical`, or categorical in `space`)
    is one term of levels - 1 df (sum-coded dummies), never one numeric
    column: a 4-level factor's sum of squares is that of the one-way ANOVA
    (Montgomery, 9th ed., Example 3.1).

    Terms aliased with terms already in the model (a fractional design's
    interactions) are dropped, and `attrs["note"]` names them; the rows are
    the kept terms and 'Residual'. A model with no residual degrees of
    freedom has nothing to test against, and is an error: an unreplicated
    saturated design needs Lenth's method (`libs.doe.analyse`), never the
    pooling of untested interactions into error.
    """
    from libs.doe.anova import Term, anova, model_matrix, reduce_terms
    from libs.doe.models import sum_coded

    frame, values = check_inputs(coded, y)
    cats = _categorical(frame, categorical, space)
    names = list(frame.columns)
    columns = {
        n: sum_coded(frame[n]) if n in cats else frame[[n]].to_numpy(dtype=float) for n in names
    }
    terms = [Term(n, n, "main", columns[n]) for n in names]
    if interactions:
        terms += [
            Term(
                f"{a}:{b}",
                f"{a}:{b}",
                "interaction",
                np.column_stack(
                    [
                        columns[a][:, i] * columns[b][:, j]
                        for i in range(columns[a].shape[1])
                        for j in range(columns[b].shape[1])
                    ]
                ),
            )
            for a, b in itertools.combinations(names, 2)
        ]
    kept, dropped = reduce_terms(terms, len(values), keep_residual=False)
    rank = int(np.linalg.matrix_rank(model_matrix(kept, len(values))))
    if len(values) - rank < 1:
        raise InputError(
            f"coded: {len(values)} runs leave no residual degrees of freedom for {len(kept)} "
            f"estimable terms; test with replicates or Lenth's method (libs.doe.analyse)"
        )
    result = anova(kept, values, frame)
    table = result.table.loc[[t.name for t in kept] + ["Residual"]]
    note = ""
    if dropped:
        note = "dropped as aliased with terms in the model: " + ", ".join(
            t.name for t, _ in dropped
        )
        log.info(note)
    table.attrs["interactions"] = any(t.kind == "interaction" for t in kept)
    table.attrs["note"] = note
    return table


__all__ = ["anova_table", "check_inputs", "interaction_effects", "main_effects"]
