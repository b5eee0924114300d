"""Model terms of a design: alias chains for two-level designs, a second-order model otherwise.

`two_level_terms` returns one column per estimable alias chain (main effects
only for a non-regular design) plus a single curvature column when the
design has centre points. `general_terms` dummy-codes categorical factors
(sum coding, levels - 1 columns), gives numeric factors with 3+ levels their
squared term, and adds the two-factor interactions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from libs.doe.aliasing import AliasStructure, alias_structure, factor_letters, product, word
from libs.doe.anova import Term

_LEVEL_DECIMALS = 9


@dataclass(frozen=True)
class TwoLevel:
    """A design whose runs are all at +-1 (factorial) or all at 0 (centre)."""

    factorial: np.ndarray  # boolean mask of the factorial runs
    centre: np.ndarray  # boolean mask of the centre runs
    alias: AliasStructure


def two_level(x: np.ndarray, names: list[str]) -> TwoLevel | None:
    """The two-level view of coded runs x, or None when some run is at another level."""
    factorial = np.all(np.isclose(np.abs(x), 1.0), axis=1)
    centre = np.all(np.isclose(x, 0.0), axis=1)
    if not np.all(factorial | centre) or factorial.sum() < 2:
        return None
    f = np.sign(x[factorial])
    if any(len(np.unique(f[:, j])) < 2 for j in range(x.shape[1])):
        return None
    return TwoLevel(factorial, centre, alias_structure(f, names))


def long_name(subset: tuple[int, ...], names: list[str]) -> str:
    return ":".join(names[i] for i in subset)


def two_level_terms(
    x: np.ndarray, names: list[str], design: TwoLevel, order: int | None
) -> list[Term]:
    """One column per chain (lowest-order member), main effects only if non-regular."""
    alias = design.alias
    limit = 1 if not alias.regular else (order or alias.max_order)
    terms = [
        Term(
            word(c.rep, alias.letters), long_name(c.rep, names), "chain", product(x, c.rep)[:, None]
        )
        for c in alias.chains
        if c.order <= limit
    ]
    if design.centre.any():
        terms.append(Term("curvature", "curvature", "curvature", design.factorial[:, None] * 1.0))
    return terms


def levels(column: pd.Series) -> list[float]:
    return sorted(set(column.round(_LEVEL_DECIMALS)))


def sum_coded(column: pd.Series) -> np.ndarray:
    """Sum-coded dummies (levels - 1 columns): level i -> e_i, last level -> -1."""
    values = column.round(_LEVEL_DECIMALS).to_numpy()
    lv = levels(column)
    out = np.zeros((len(values), len(lv) - 1))
    for i, level in enumerate(lv[:-1]):
        out[values == level, i] = 1.0
    out[values == lv[-1], :] = -1.0
    return out


def general_terms(
    frame: pd.DataFrame, categorical: set[str], order: int | None
) -> tuple[list[Term], dict[str, list[str]]]:
    """Main, quadratic and two-factor terms; and the ANOVA groups of their names."""
    names = list(frame.columns)
    letters = factor_letters(names)
    mains: list[Term] = []
    quads: list[Term] = []
    for name in names:
        col = frame[name]
        if name in categorical:
            mains.append(Term(letters[name], name, "main", sum_coded(col)))
        else:
            x = col.to_numpy(dtype=float)[:, None]
            mains.append(Term(letters[name], name, "main", x))
            if len(levels(col)) >= 3:
                quads.append(Term(f"{letters[name]}^2", f"{name}^2", "quadratic", x**2))
    pairs: list[Term] = []
    for a, b in itertools.combinations(mains, 2):
        cols = np.column_stack(
            [a.columns[:, i] * b.columns[:, j] for i in range(a.df) for j in range(b.df)]
        )
        pairs.append(Term(a.name + b.name, f"{a.label}:{b.label}", "interaction", cols))
    if order == 1:
        quads, pairs = [], []
    groups = {
        ("Main effects" if categorical & set(names) else "Linear"): [t.name for t in mains],
        "Quadratic": [t.name for t in quads],
        "Interaction": [t.name for t in pairs],
    }
    return [*mains, *quads, *pairs], groups


__all__ = [
    "TwoLevel",
    "general_terms",
    "levels",
    "long_name",
    "sum_coded",
    "two_level",
    "two_level_terms",
]
