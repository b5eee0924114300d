"""Second-order response surface: fit a full quadratic and find its optimum.

The fit is done in coded units, where the terms are on one scale; the optimum
is searched inside the region the design supports (`Region.of`: its cube, or
a rotatable CCD's sphere; never extrapolated), the same region `analyse`
searches, and reported in real units through the factor space.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from libs.doe.analysis import Response, check_inputs
from libs.doe.canonical import Region, canonical
from libs.doe.space import CategoricalFactor, FactorSpace
from libs.errors import InputError


@dataclass(frozen=True)
class ResponseSurface:
    """A fitted quadratic and its optimum inside the design's region.

    `coefficients` is indexed 'Intercept', 'A', 'A:B', 'A^2' (factor names).
    `optimum_coded` is the best point in the design's region; `optimum` the same point
    in real units (integers rounded); `predicted_optimum` the fitted response
    there. It is a true optimum only when `nature` is the extremum sought and
    `on_boundary` is false; a saddle's best point is not one (`libs.doe.analyse`
    gives the full canonical analysis).
    """

    factors: list[str]
    coefficients: pd.Series
    r_squared: float
    adj_r_squared: float
    maximize: bool
    optimum_coded: dict[str, float]
    optimum: dict[str, Any]
    predicted_optimum: float
    nature: str = ""  # of the stationary point: maximum, minimum, saddle, ridge
    on_boundary: bool = False  # the best point lies on the region's boundary

    def predict(self, coded: pd.DataFrame) -> np.ndarray:
        """Fitted response at coded points (columns named as the factors)."""
        return _terms(coded[self.factors].to_numpy(dtype=float)) @ self.coefficients.to_numpy()


def _terms(x: np.ndarray) -> np.ndarray:
    """Design matrix: intercept, linear, two-factor products, squares (in that order)."""
    k = x.shape[1]
    pairs = list(itertools.combinations(range(k), 2))
    cols = [np.ones(len(x))]
    cols += [x[:, i] for i in range(k)]
    cols += [x[:, i] * x[:, j] for i, j in pairs]
    cols += [x[:, i] ** 2 for i in range(k)]
    return np.column_stack(cols)


def _term_names(names: list[str]) -> list[str]:
    pairs = [f"{a}:{b}" for a, b in itertools.combinations(names, 2)]
    return ["Intercept", *names, *pairs, *(f"{n}^2" for n in names)]


def _quadratic_form(beta: np.ndarray, k: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Split beta into f(x) = c + b.x + x'Bx, for an exact gradient b + 2Bx."""
    c, b = beta[0], beta[1 : 1 + k]
    B = np.zeros((k, k))
    for n, (i, j) in enumerate(itertools.combinations(range(k), 2)):
        B[i, j] = B[j, i] = beta[1 + k + n] / 2
    B[np.diag_indices(k)] = beta[-k:]
    return float(c), b, B


def response_surface(
    coded: pd.DataFrame, y: Response, space: FactorSpace, maximize: bool = True
) -> ResponseSurface:
    """Fit y on a full quadratic in the coded factors and locate its optimum.

    Needs numeric factors with at least three distinct levels each (a squared
    term is otherwise confounded with the intercept) and more runs than terms,
    so that adjusted R^2 exists. A CCD or Box-Behnken design meets both.
    """
    frame, values = check_inputs(coded, y)
    names = list(frame.columns)
    unknown = [n for n in names if n not in space.names]
    if unknown:
        raise InputError(f"coded columns not in the factor space: {', '.join(unknown)}")
    for name in names:
        if isinstance(space.factor(name), CategoricalFactor):
            raise InputError(f"factor {name!r} is categorical; a response surface needs numbers")
        if frame[name].round(9).nunique() < 3:
            raise InputError(
                f"factor {name!r} has fewer than 3 distinct levels, so its squared term "
                f"cannot be estimated; use a central composite or Box-Behnken design"
            )
    k = len(names)
    x = _terms(frame.to_numpy())
    n_terms = x.shape[1]
    if len(values) <= n_terms:
        raise InputError(
            f"a quadratic in {k} factors has {n_terms} terms and needs more runs than that; "
            f"got {len(values)}"
        )
    if np.linalg.matrix_rank(x) < n_terms:
        raise InputError("the design cannot separate all quadratic terms (aliased columns)")
    fit = sm.OLS(values, x).fit()
    beta = np.asarray(fit.params, dtype=float)
    c0, b, B = _quadratic_form(beta, k)
    runs = frame.to_numpy(dtype=float)
    region = Region.of(runs)  # the same region `analyse` and `recommend` search
    canon = canonical(c0, b, B, region, runs, maximize)
    best = canon.best
    optimum_coded = {n: float(v) for n, v in zip(names, best, strict=True)}
    nature = canon.nature
    fixed = {f.name: 0.0 for f in space.factors}  # factors not in the fit sit at the centre
    real = space.decode({**fixed, **optimum_coded})
    return ResponseSurface(
        factors=names,
        coefficients=pd.Series(beta, index=_term_names(names), name="coefficient"),
        r_squared=float(fit.rsquared),
        adj_r_squared=float(fit.rsquared_adj),
        maximize=maximize,
        optimum_coded=optimum_coded,
        optimum={n: real[n] for n in names},
        predicted_optimum=float((_terms(best[None, :]) @ beta)[0]),
        nature=nature,
        on_boundary=canon.best_on_boundary,
    )


__all__ = ["ResponseSurface", "response_surface"]
