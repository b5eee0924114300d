"""Definitive screening designs (Jones & Nachtsheim 2011, 2013) and their model selection.

The design comes from pyDOE's conference-matrix construction; this module
maps it onto a factor space (categorical columns back in space order) and
holds the two-stage model selection of Jones & Nachtsheim (2017), which uses
the design's fold-over structure: main effects are estimated from the
fold-over pairs, free of every second-order term, and the second-order terms
from what the pairs' means leave.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pydoe
from scipy import stats

from libs.doe.space import CategoricalFactor, FactorSpace
from libs.errors import InputError


def dsd_matrix(space: FactorSpace, fake_factors: int = 0) -> np.ndarray:
    """The coded definitive screening design over `space` (columns in space order).

    Categorical factors must have two levels: the construction gives them -1/+1
    and de-aliases their interactions (Jones & Nachtsheim 2013).
    """
    numeric, categorical = [], []
    for j, f in enumerate(space.factors):
        if isinstance(f, CategoricalFactor):
            if len(f.levels) != 2:
                raise InputError(
                    f"factor {f.name!r}: definitive_screening takes categorical factors with "
                    f"two levels, this one has {len(f.levels)}; use optimal or full_factorial"
                )
            categorical.append(j)
        else:
            numeric.append(j)
    if len(space.factors) < 2:
        raise InputError("definitive_screening needs at least 2 factors")
    raw = pydoe.definitive_screening_design(
        len(numeric), len(categorical), n_fake_factors=fake_factors
    )
    out = np.empty_like(raw)
    for position, j in enumerate([*numeric, *categorical]):
        out[:, j] = raw[:, position]
    return out


def dsd_size(space: FactorSpace, fake_factors: int = 0) -> int:
    """Runs of the design (it is built: a DSD of a few dozen factors takes milliseconds)."""
    return int(dsd_matrix(space, fake_factors).shape[0])


@dataclass(frozen=True)
class DsdSelection:
    """The terms the two-stage selection keeps, and why, in factor names."""

    main_effects: tuple[str, ...]
    second_order: tuple[str, ...]
    error_df: int
    sigma: float
    reasons: tuple[str, ...]

    @property
    def terms(self) -> tuple[str, ...]:
        return (*self.main_effects, *self.second_order)


def _foldover_pairs(x: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
    """Index pairs of runs that are each other's negative, and the centre runs."""
    used: set[int] = set()
    pairs, centres = [], []
    for i in range(len(x)):
        if i in used:
            continue
        if np.allclose(x[i], 0):
            centres.append(i)
            used.add(i)
            continue
        for j in range(i + 1, len(x)):
            if j not in used and np.allclose(x[i], -x[j]):
                pairs.append((i, j))
                used.update((i, j))
                break
    return pairs, centres


def select_dsd_model(
    coded: np.ndarray, y: np.ndarray, names: list[str], alpha: float = 0.05
) -> DsdSelection:
    """Two-stage effective model selection for a DSD (Jones & Nachtsheim 2017).

    Stage 1: the response splits into an odd part (the fold-over pairs'
    half-differences, which carry the main effects only) and an even part (the
    pairs' half-sums and centre runs, which carry the intercept and second-order
    terms). Main effects are fitted on the odd part and chosen by t-tests whose
    error comes from the odd part's residual degrees of freedom (fake factors
    give those). Stage 2: second-order terms (squares and interactions) of the
    chosen main effects only (strong heredity), fitted on the even part, added
    forward while significant against the odd part's error pooled with the even
    part's residual.
    """
    x = np.asarray(coded, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(names) or len(y) != len(x):
        raise InputError("select_dsd_model: coded, y and names disagree in shape")
    pairs, centres = _foldover_pairs(x)
    if not pairs or 2 * len(pairs) + len(centres) != len(x):
        raise InputError("select_dsd_model: the runs are not fold-over pairs (not a DSD)")
    a = np.array([i for i, _ in pairs])
    b = np.array([j for _, j in pairs])
    x_odd = (x[a] - x[b]) / 2
    y_odd = (y[a] - y[b]) / 2
    reasons: list[str] = []
    # Stage 1: main effects on the odd part (no intercept: it cancels).
    k = len(names)
    coef, *_ = np.linalg.lstsq(x_odd, y_odd, rcond=None)
    df1 = len(pairs) - k
    main: list[int] = []
    sigma = odd_s2 = float("nan")
    if df1 > 0:
        resid = y_odd - x_odd @ coef
        s2 = odd_s2 = float(resid @ resid) / df1
        cov = s2 * np.linalg.inv(x_odd.T @ x_odd)
        crit = stats.t.ppf(1 - alpha / 2, df1)
        for j in range(k):
            t = coef[j] / np.sqrt(cov[j, j])
            if abs(t) > crit:
                main.append(j)
                reasons.append(f"{names[j]}: main effect t={t:.2f} on {df1} df (> {crit:.2f})")
        sigma = float(np.sqrt(s2 * 2))  # a half-difference has half the run variance
    else:
        # No odd-part error: rank the effects and keep those above half the largest (a
        # conservative stand-in that the report says was used).
        size = np.abs(coef)
        main = [j for j in range(k) if size[j] >= 0.5 * size.max()]
        reasons.append("no error degrees of freedom in the main-effect stage (add fake factors)")
    # Stage 2: second-order terms of the chosen factors, on the even part.
    # A pair's second-order columns are equal in both runs (x and -x), so either run gives them.
    x_even = np.vstack([x[a], x[centres]]) if centres else x[a]
    y_even = np.concatenate([(y[a] + y[b]) / 2, y[centres]])
    candidates: list[tuple[str, np.ndarray]] = []
    for j in main:
        if len(set(np.round(x[:, j], 9))) > 2:
            candidates.append((f"{names[j]}^2", x_even[:, j] ** 2))
    for i, j in itertools.combinations(main, 2):
        candidates.append((f"{names[i]}*{names[j]}", x_even[:, i] * x_even[:, j]))
    chosen: list[tuple[str, np.ndarray]] = []
    while candidates:
        best = None
        for label, column in candidates:
            cols = [np.ones(len(y_even)), *(c for _, c in chosen), column]
            m = np.column_stack(cols)
            df2 = len(y_even) - m.shape[1]
            if df2 < 1 or np.linalg.matrix_rank(m) < m.shape[1]:
                continue
            beta, *_ = np.linalg.lstsq(m, y_even, rcond=None)
            r = y_even - m @ beta
            # The odd part's error (free of every second-order term) pooled with the even
            # part's residual under the candidate model, as Jones & Nachtsheim (2017) pool.
            odd_ss = odd_s2 * df1 if df1 > 0 else 0.0
            df = df2 + max(df1, 0)
            s2 = (odd_ss + float(r @ r)) / df
            var = s2 * np.linalg.inv(m.T @ m)[-1, -1]
            p = 2 * stats.t.sf(abs(beta[-1]) / np.sqrt(var), df) if var > 0 else 0.0
            if best is None or p < best[0]:
                best = (p, label, column, df)
        if best is None or best[0] > alpha:
            break
        p, label, column, df2 = best
        chosen.append((label, column))
        candidates = [c for c in candidates if c[0] != label]
        reasons.append(f"{label}: second-order term p={p:.3g} on {df2} df (heredity)")
    return DsdSelection(
        main_effects=tuple(names[j] for j in main),
        second_order=tuple(label for label, _ in chosen),
        error_df=max(df1, 0),
        sigma=sigma,
        reasons=tuple(reasons),
    )


__all__ = ["DsdSelection", "dsd_matrix", "dsd_size", "select_dsd_model"]
