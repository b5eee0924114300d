"""Augmenting any earlier design with D-optimal runs, in a block of their own.

JMP's Augment Design (and Goos & Jones, *Optimal Design of Experiments: A
Case Study Approach*, 2011, ch. 3 "Adding runs to a screening experiment"):
the runs already made are kept as they are and the new ones are chosen to
maximise det(X'X) of the whole design for the model the user names, with a
block column that lets the new runs' level differ from the earlier ones'.
Any earlier design qualifies (a fraction, a definitive screening design, a
Latin hypercube, an earlier augmentation); its runs are reused, not re-run.

pyDOE's exchange routines (`pydoe.optimal_design`) choose every run of a
design and cannot hold some fixed, so the exchange here is Fedorov's (Atkinson,
Donev & Tobias, *Optimum Experimental Designs*, 2007, ch. 12) on the new runs
only, over pyDOE-style candidates (`libs.doe.optimal.candidate_set`, the
constraints applied), with the earlier runs' information F'F added; the
whole design's information matrix is then pyDOE's `information_matrix`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pydoe

from libs.doe.evaluate import model_terms
from libs.doe.optimal import candidate_set, feasibility
from libs.doe.space import FactorSpace
from libs.errors import InputError

RANDOM_STARTS = 4


def _short(names: Sequence[str]) -> str:
    return ", ".join(n.rsplit(".", 1)[-1] for n in names)


def model_matrix(
    coded: pd.DataFrame, space: FactorSpace, model: str, blocks: Sequence[int] = ()
) -> np.ndarray:
    """Intercept, the model's columns over `space` (effect-coded categoricals) and the
    block effect, effect-coded as JMP does (B blocks: B - 1 columns, +1 in a column's
    block, -1 in the last block; two blocks: one +-1 column; none when `blocks` is empty)."""
    inside, _ = model_terms(coded[space.names], space, model)
    cols = [np.ones(len(coded))] + [c for term in inside.values() for c in term]
    b = np.asarray(blocks)
    levels = sorted(set(blocks))
    cols += [
        np.where(b == level, 1.0, np.where(b == levels[-1], -1.0, 0.0)) for level in levels[:-1]
    ]
    return np.column_stack(cols).astype(float)


def _log_det(m: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(m)
    return float(value) if sign > 0 else -math.inf


def _exchange(fixed: np.ndarray, candidates: np.ndarray, n: int, start: list[int]) -> list[int]:
    """Fedorov's exchange on the `n` new rows: swap the (design row, candidate) pair that
    raises det(F'F + X'X) most, until none does. A candidate may be chosen twice."""
    p = candidates.shape[1]
    ridge = 1e-9 * np.eye(p)  # the start may be singular: the first swaps fill its gaps
    chosen = list(start)
    m = fixed.T @ fixed + candidates[chosen].T @ candidates[chosen]
    for _ in range(50 * n + 100):
        inv = np.linalg.inv(m + ridge)
        d_cand = np.einsum("ij,jk,ik->i", candidates, inv, candidates)
        x = candidates[chosen]
        d_run = np.einsum("ij,jk,ik->i", x, inv, x)
        cross = candidates @ inv @ x.T
        # det ratio of swapping run i for candidate j (Fedorov's delta + 1)
        ratio = (1 + d_cand[:, None]) * (1 - d_run[None, :]) + cross**2
        j, i = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        if ratio[j, i] <= 1 + 1e-9:
            break
        m += np.outer(candidates[j], candidates[j]) - np.outer(x[i], x[i])
        chosen[i] = int(j)
    return chosen


def _greedy(fixed: np.ndarray, candidates: np.ndarray, n: int) -> list[int]:
    """Dykstra's sequential start: each new run where the prediction variance is largest."""
    p = candidates.shape[1]
    m = fixed.T @ fixed + 1e-6 * np.eye(p)
    chosen = []
    for _ in range(n):
        inv = np.linalg.inv(m)
        j = int(np.argmax(np.einsum("ij,jk,ik->i", candidates, inv, candidates)))
        chosen.append(j)
        m += np.outer(candidates[j], candidates[j])
    return chosen


def best_new_runs(fixed: np.ndarray, candidates: np.ndarray, n: int, seed: int = 0) -> list[int]:
    """Indices of `n` candidate rows that, added to `fixed`, maximise det of the whole
    information matrix: the exchange from a sequential start and from a few seeded random
    ones, the best kept (ties to the earlier start, so the result is reproducible)."""
    rng = np.random.default_rng(seed)
    starts = [_greedy(fixed, candidates, n)]
    starts += [list(rng.integers(0, len(candidates), n)) for _ in range(RANDOM_STARTS)]
    best, best_value = starts[0], -math.inf
    for start in starts:
        chosen = _exchange(fixed, candidates, n, start)
        x = np.vstack([fixed, candidates[chosen]])
        value = _log_det(x.T @ x)
        if value > best_value + 1e-9:
            best, best_value = chosen, value
    return best


@dataclass(frozen=True)
class Augmentation:
    """The new runs (coded, every factor of the space, in the order chosen) and figures."""

    added: pd.DataFrame
    parameters: int
    candidates: int
    d_efficiency: float  # of the whole design (earlier + new runs) for the model, in percent
    description: str


def augment_optimal(
    earlier: pd.DataFrame,
    space: FactorSpace,
    runs: int,
    model: str = "quadratic",
    *,
    blocks: Sequence[int] = (),
    factors: Sequence[str] = (),
    held: Mapping[str, float] | None = None,
    constraints: Sequence[str | Mapping[str, Any]] = (),
    levels: int = 3,
    seed: int = 0,
) -> Augmentation:
    """`runs` D-optimal runs added to the coded `earlier` runs, in a new block.

    The model is in `factors` (default every factor); the new runs hold the
    others at their coded value in `held` (default the centre). `blocks` are
    the earlier runs' blocks (default one); the new runs are the next block,
    and the model carries a block effect. Every new run satisfies
    `constraints` (in natural units, over the whole space).
    """
    active = list(factors) or list(space.names)
    held = dict(held or {})
    sub = FactorSpace(factors=[space.factor(n) for n in active])
    grid = candidate_set(sub, (), levels, seed)
    for name in space.names:
        if name not in active:
            grid[name] = float(held.get(name, 0.0))
    grid = grid[space.names]
    allowed = feasibility(space, constraints)
    grid = grid[[allowed(space.decode(row)) for row in grid.to_dict("records")]]
    if grid.empty:
        raise InputError(
            "design.constraints: no setting of the factors satisfies every constraint "
            "(with the other factors held where the new runs hold them)"
        )
    grid = grid.reset_index(drop=True)
    earlier_blocks = list(blocks) or [1] * len(earlier)
    if len(earlier_blocks) != len(earlier):
        raise InputError(f"blocks: {len(earlier_blocks)} values for {len(earlier)} runs")
    new_block = max(earlier_blocks) + 1
    every = model_matrix(
        pd.concat([earlier[active], grid[active]], ignore_index=True),
        sub,
        model,
        earlier_blocks + [new_block] * len(grid),
    )
    fixed, candidates = every[: len(earlier)], every[len(earlier) :]
    p = every.shape[1]
    known = int(np.linalg.matrix_rank(fixed)) if len(fixed) else 0
    need = p - known
    if runs < need:
        raise InputError(
            f"design.runs: {runs} new run(s) cannot complete the {model} model in "
            f"{_short(active)} ({p} parameters with the block effect): the {len(earlier)} "
            f"earlier runs estimate {known} of them; give runs >= {need}"
        )
    chosen = best_new_runs(fixed, candidates, runs, seed)
    x = candidates[chosen]
    info = pydoe.information_matrix(x, normalized=False, alpha=float(len(fixed)), X0=fixed)
    if np.linalg.matrix_rank(info) < p:
        raise InputError(
            f"design.constraints: no {runs} feasible new runs estimate the {model} model in "
            f"{_short(active)}; add runs or relax a constraint"
        )
    n = len(fixed) + runs
    d_eff = 100 * math.exp(_log_det(info) / p) / n
    added = grid.iloc[chosen].reset_index(drop=True)
    description = (
        f"{runs} D-optimal runs for the {model} model in {_short(active)} in block "
        f"{new_block} (D-efficiency {d_eff:.1f}% over all {n} runs, {len(grid)} feasible "
        "candidates)"
    )
    return Augmentation(added, p, len(grid), d_eff, description)


__all__ = ["Augmentation", "augment_optimal", "best_new_runs", "model_matrix"]
