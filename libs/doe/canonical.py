"""Canonical analysis of a fitted second-order surface, and the path of steepest ascent.

With y = b0 + x'b + x'Bx (B symmetric: squares on the diagonal, half the
interactions off it), the stationary point is xs = -B^-1 b / 2 and the
eigenvalues of B give its nature: all negative a maximum, all positive a
minimum, mixed signs a saddle, and one near zero (relative to the largest) a
ridge. Montgomery, Design and Analysis of Experiments, section 11.3.

The experimental region is the design's own (`Region.of`): the cube of its
coded ranges, or, when axial runs lie beyond the faces, the sphere of radius
alpha (a rotatable CCD's). When the stationary point is not the optimum
sought, or lies outside, the best point *inside* the region is found by
constrained optimisation (scipy SLSQP from every design point) and reported
as such, with whether it lies on the boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

RIDGE_RATIO = 0.05  # |eigenvalue| below this share of the largest: a ridge
_EDGE = 1e-4
_BEYOND = 1e-6  # a coded value past +-1 by more than this is an axial run


@dataclass(frozen=True)
class Region:
    """Coded box [low, high] per factor intersected with a ball of `radius`."""

    low: np.ndarray
    high: np.ndarray
    radius: float

    @classmethod
    def of(cls, x: np.ndarray) -> Region:
        """The region a design supports: the one search region every function uses.

        Cuboidal (the box of the runs' coded ranges) for factorials, face-centred
        CCDs, Box-Behnken and space-filling designs, whose runs all lie in the
        cube; spherical with radius alpha (the farthest coded value) when axial
        runs lie beyond the faces, as in a rotatable or orthogonal CCD
        (Montgomery, 9th ed., section 11.4.1: cuboidal vs spherical regions).
        """
        x = np.atleast_2d(np.asarray(x, dtype=float))
        k = x.shape[1]
        if k == 0 or len(x) == 0:
            return cls(np.zeros(k), np.zeros(k), 0.0)
        alpha = float(np.abs(x).max())
        if alpha > 1.0 + _BEYOND:
            return cls(np.full(k, -alpha), np.full(k, alpha), alpha)
        low, high = x.min(axis=0), x.max(axis=0)
        return cls(low, high, float(np.sqrt(np.maximum(low**2, high**2).sum())))

    @property
    def spherical(self) -> bool:
        """Whether the ball, not the box, bounds the region."""
        corner = float(np.sqrt(np.maximum(self.low**2, self.high**2).sum()))
        return bool(self.radius < corner - _EDGE)

    def contains(self, p: np.ndarray, tol: float = 1e-9) -> bool:
        inside = np.all(p >= self.low - tol) and np.all(p <= self.high + tol)
        return bool(inside and float(np.linalg.norm(p)) <= self.radius + tol)

    def on_boundary(self, p: np.ndarray) -> bool:
        near_box = np.any(np.abs(p - self.low) < _EDGE) or np.any(np.abs(p - self.high) < _EDGE)
        return bool(near_box or abs(float(np.linalg.norm(p)) - self.radius) < _EDGE)


@dataclass(frozen=True)
class Canonical:
    """Stationary point, eigen-structure, nature and the best point inside the region."""

    stationary: np.ndarray | None  # None when B is singular
    stationary_response: float | None
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray  # columns
    nature: str  # "maximum", "minimum", "saddle", "ridge"
    stationary_inside: bool
    best: np.ndarray
    best_response: float
    best_on_boundary: bool
    is_optimum: bool  # the stationary point is the sought optimum, inside the region
    # for a ridge: "stationary" (the stationary point, or a line of them, lies in the
    # region: many settings give nearly the best response) or "rising" (it lies far
    # outside: the response keeps improving along the ridge, beyond the region)
    ridge: str = ""
    ridge_direction: np.ndarray | None = None  # the eigenvector of the near-zero eigenvalue


def quadratic_form(
    intercept: float, b: np.ndarray, B: np.ndarray
) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]:
    def f(x: np.ndarray) -> float:
        return float(intercept + b @ x + x @ B @ x)

    def grad(x: np.ndarray) -> np.ndarray:
        return np.asarray(b + 2 * B @ x, dtype=float)

    return f, grad


def best_in_region(
    intercept: float,
    b: np.ndarray,
    B: np.ndarray,
    region: Region,
    starts: np.ndarray,
    maximize: bool,
) -> np.ndarray:
    """The best fitted point inside the region, from several deterministic starts."""
    f, grad = quadratic_form(intercept, b, B)
    sign = -1.0 if maximize else 1.0
    cons = [{"type": "ineq", "fun": lambda x: region.radius**2 - x @ x, "jac": lambda x: -2 * x}]
    bounds = list(zip(region.low, region.high, strict=True))
    best, best_val = None, np.inf
    for x0 in [np.zeros(len(b)), *starts]:
        res = minimize(
            lambda x: sign * f(x),
            np.clip(x0, region.low, region.high),
            jac=lambda x: sign * grad(x),
            method="SLSQP",
            bounds=bounds,
            constraints=cons,
            options={"ftol": 1e-12, "maxiter": 500},
        )
        # The start itself is a candidate too: SLSQP can stop outside the ball or return
        # NaN on a badly scaled response (bytes, seconds), and the runs lie inside.
        for x in (np.clip(res.x, region.low, region.high), np.clip(x0, region.low, region.high)):
            value = sign * f(x)
            if np.isfinite(value) and region.contains(x, tol=1e-6) and value < best_val - 1e-12:
                best, best_val = x, value
    return best if best is not None else np.zeros(len(b))


def canonical(
    intercept: float,
    b: np.ndarray,
    B: np.ndarray,
    region: Region,
    starts: np.ndarray,
    maximize: bool,
) -> Canonical:
    """Canonical analysis of y = intercept + x'b + x'Bx over `region`."""
    values, vectors = np.linalg.eigh(B)
    largest = float(np.abs(values).max()) if values.size else 0.0
    f, _ = quadratic_form(intercept, b, B)
    if largest == 0 or float(np.abs(values).min()) < RIDGE_RATIO * largest:
        nature = "ridge"
    elif np.all(values < 0):
        nature = "maximum"
    elif np.all(values > 0):
        nature = "minimum"
    else:
        nature = "saddle"
    stationary = None
    if largest > 0 and float(np.abs(values).min()) > 1e-12 * largest:
        stationary = np.linalg.solve(B, -b / 2)
    inside = stationary is not None and region.contains(stationary)
    sought = "maximum" if maximize else "minimum"
    is_optimum = bool(inside and nature == sought)
    best = stationary if is_optimum and stationary is not None else None
    if best is None:
        best = best_in_region(intercept, b, B, region, starts, maximize)
    ridge, direction = "", None
    if nature == "ridge" and values.size:
        flat = int(np.argmin(np.abs(values)))
        direction = vectors[:, flat]
        if stationary is not None:
            ridge = "stationary" if inside else "rising"
        else:  # a line of stationary points exists only if b has no part along the ridge
            along = abs(float(b @ direction))
            ridge = "stationary" if along <= 1e-9 * max(float(np.abs(b).max()), 1.0) else "rising"
    return Canonical(
        stationary=stationary,
        stationary_response=f(stationary) if stationary is not None else None,
        eigenvalues=values,
        eigenvectors=vectors,
        nature=nature,
        stationary_inside=inside,
        best=best,
        best_response=f(best),
        best_on_boundary=region.on_boundary(best),
        is_optimum=is_optimum,
        ridge=ridge,
        ridge_direction=direction,
    )


def steepest_path(b: np.ndarray, maximize: bool, steps: int = 5) -> np.ndarray:
    """Points along the gradient of a first-order fit, in coded units (steps+1 x k).

    The factor with the largest |coefficient| moves one coded unit a step, the
    others in proportion (Montgomery, section 11.2); descent when minimising.
    """
    largest = float(np.abs(b).max())
    if largest == 0:
        return np.zeros((1, len(b)))
    direction = (b if maximize else -b) / largest
    return np.outer(np.arange(steps + 1), direction) + 0.0  # + 0.0: no -0 in tables


__all__ = ["Canonical", "Region", "best_in_region", "canonical", "steepest_path"]
