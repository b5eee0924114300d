"""Where a GP stage looks: space-filling points of the whole box and perturbations of the best runs.

Expected improvement is maximised over a finite set of candidates. Uniform
random points alone cover a box of five or more factors thinly, so the few
that land near the best runs, where the improvement usually is, are too far
apart to refine it. As in BoTorch's and TuRBO's samplers (Eriksson et al.
2019, "Scalable global optimization via local Bayesian optimization"), half
the candidates are a scrambled Sobol sequence over the box and half are the
best runs perturbed: a random subset of the factors moved by a Gaussian step
in coded units (several step sizes, from a tenth to half of a factor's
half-range), a categorical factor switched to another level.

Everything is in coded units (`FactorSpace.encode`: numeric factors on
[-1, 1], log factors in log space). An integer factor's uniform draws give
every level the same chance (the end levels too), and every candidate is
decoded to the value a run would train with (integers rounded) before the
GP scores it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from libs.doe.space import CategoricalFactor, FactorSpace, IntegerFactor

# Gaussian step sizes (coded units) of the local candidates; each candidate draws one.
LOCAL_STEPS = (0.05, 0.1, 0.2, 0.5)
# How many of the best runs the local candidates are drawn around (the best most often).
LOCAL_CENTRES = 5


def _uniform_code(factor: Any, u: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) draws -> codes, each integer or categorical level equally likely."""
    if isinstance(factor, CategoricalFactor):
        k = len(factor.levels)
        index = np.minimum(np.floor(u * k), k - 1)
        return -1.0 + 2.0 * index / (k - 1)
    if isinstance(factor, IntegerFactor) and factor.high > factor.low:
        # every level owns a coded interval of width 2/(high-low); the end levels' reach
        # half of theirs beyond +-1, so stretch the draw by that much on both sides
        pad = 1.0 / (factor.high - factor.low)
        return -1.0 - pad + u * (2.0 + 2.0 * pad)
    return -1.0 + 2.0 * u


def _uniform(space: FactorSpace, m: int, rng: np.random.Generator) -> np.ndarray:
    """m coded points spread over the box (a scrambled Sobol sequence)."""
    d = len(space.factors)
    sobol = qmc.Sobol(d, scramble=True, seed=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # m need not be a power of two here
        u = sobol.random(m)
    return np.column_stack([_uniform_code(f, u[:, j]) for j, f in enumerate(space.factors)])


def _local(space: FactorSpace, centres: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """m coded points near `centres` (best first): a random subset of factors moved."""
    d = len(space.factors)
    # the best run is the centre of half the candidates, the others share the rest
    k = len(centres)
    weights = np.array([1.0] if k == 1 else [0.5] + [0.5 / (k - 1)] * (k - 1))
    start = centres[rng.choice(len(centres), size=m, p=weights)]
    step = np.asarray(LOCAL_STEPS)[rng.integers(len(LOCAL_STEPS), size=m)]
    # each factor moves with probability 1/2 (at least one always does)
    move = rng.random((m, d)) < 0.5
    move[np.arange(m), rng.integers(d, size=m)] = True
    out = start.copy()
    for j, f in enumerate(space.factors):
        rows = move[:, j]
        if isinstance(f, CategoricalFactor):
            k = len(f.levels)
            # another level: shift the index by 1..k-1
            index = np.array([f.index(code) for code in start[rows, j]], dtype=int)
            index = (index + rng.integers(1, k, size=int(rows.sum()))) % k
            out[rows, j] = -1.0 + 2.0 * index / (k - 1)
        else:
            moved = start[rows, j] + step[rows] * rng.standard_normal(int(rows.sum()))
            out[rows, j] = np.clip(moved, -1.0, 1.0)
    return out


def _decode(space: FactorSpace, coded: np.ndarray) -> list[dict[str, Any]]:
    names = space.names
    out = []
    for row in coded:
        point = space.decode({n: float(v) for n, v in zip(names, row, strict=True)})
        out.append(
            {k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in point.items()}
        )
    return out


def gp_candidates(
    space: FactorSpace,
    runs: Sequence[Mapping[str, Any]],
    goodness: np.ndarray,
    m: int,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """About `m` candidate settings (natural values, as trained): half spread over the box,
    half perturbations of the runs with the largest `goodness` (higher is better)."""
    local_m = m // 2 if len(runs) else 0
    coded = [_uniform(space, m - local_m, rng)]
    if local_m:
        order = np.argsort(-np.asarray(goodness, dtype=float), kind="stable")[:LOCAL_CENTRES]
        centres = np.array([[float(space.encode(runs[i])[n]) for n in space.names] for i in order])
        coded.append(_local(space, centres, local_m, rng))
    return _decode(space, np.vstack(coded))


__all__ = ["LOCAL_CENTRES", "LOCAL_STEPS", "gp_candidates"]
