"""A model-based stage: a Gaussian process on every run so far, proposals by expected improvement.

The runs (natural units) are coded as the designs code them (numeric factors
on [-1, 1], log ones in log space), categorical factors one-hot. A
scikit-learn `GaussianProcessRegressor` (Matern 5/2 with one length scale per
column, plus a white-noise term, `normalize_y`) is fitted to them, and a
batch is chosen from random candidates in the factor space's box by
expected improvement over the best run, one at a time, each chosen
candidate's predicted mean added as if observed before the next is chosen
(the kriging believer; Ginsbourger, Le Riche and Carraro 2010). Candidates
are decoded to the values that would be trained (integers rounded) before
they are scored, and no proposal repeats a run or another proposal.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from libs.doe.analysis import Response
from libs.doe.space import CategoricalFactor, FactorSpace
from libs.errors import InputError

CANDIDATES = 2000
_Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class GpProposal:
    """One proposed run: every factor in natural units, the GP's prediction there and a
    95% interval for one run (the noise term included), and its expected improvement."""

    settings: dict[str, Any]
    predicted: float
    interval: tuple[float, float]
    expected_improvement: float


def _features(space: FactorSpace, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
    rows = []
    for p in points:
        row: list[float] = []
        for f in space.factors:
            if isinstance(f, CategoricalFactor):
                code = f.encode(p[f.name])
                k = len(f.levels)
                index = round((code + 1) * (k - 1) / 2)
                row += [1.0 if i == index else 0.0 for i in range(k)]
            else:
                row.append(float(f.encode(p[f.name])))
        rows.append(row)
    return np.asarray(rows, dtype=float)


def _key(space: FactorSpace, point: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        round(float(point[n]), 9) if isinstance(point[n], float) else point[n] for n in space.names
    )


def _candidates(space: FactorSpace, m: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """m random points of the box, decoded to the values a run would train with."""
    out = []
    for _ in range(m):
        coded = {}
        for f in space.factors:
            if isinstance(f, CategoricalFactor):
                i = int(rng.integers(len(f.levels)))
                coded[f.name] = -1 + 2 * i / (len(f.levels) - 1)
            else:
                coded[f.name] = float(rng.uniform(-1.0, 1.0))
        point = space.decode(coded)
        out.append(
            {k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in point.items()}
        )
    return out


def _gp(seed: int, kernel: Any = None) -> Any:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    if kernel is not None:  # a believer refit keeps the fitted hyper-parameters
        return GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=True)
    base = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(length_scale=1.0, nu=2.5)
    return GaussianProcessRegressor(
        kernel=base + WhiteKernel(1e-2, (1e-8, 1e1)),
        normalize_y=True,
        n_restarts_optimizer=2,
        random_state=seed,
    )


def _check(
    points: Sequence[Mapping[str, Any]] | pd.DataFrame, y: Response, space: FactorSpace, n: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    rows = points.to_dict(orient="records") if isinstance(points, pd.DataFrame) else list(points)
    values = np.asarray(y, dtype=float).ravel()
    if len(values) != len(rows):
        raise InputError(f"y: {len(values)} responses for {len(rows)} runs")
    if len(rows) < 3:
        raise InputError(
            f"runs: a Gaussian process needs at least 3 finished runs, got {len(rows)}"
        )
    if not np.all(np.isfinite(values)):
        raise InputError("y: responses must be finite numbers")
    if n < 1:
        raise InputError(f"n: must be at least 1, got {n}")
    for p in rows:
        missing = [name for name in space.names if name not in p]
        if missing:
            raise InputError(f"runs: a run has no value for {', '.join(missing)}")
    return [{k: p[k] for k in space.names} for p in rows], values


def _far(candidates: np.ndarray, runs: np.ndarray, distance: float) -> np.ndarray:
    """Which candidates lie farther than `distance` (coded units) from every run."""
    d = np.sqrt(((candidates[:, None, :] - runs[None, :, :]) ** 2).sum(axis=2))
    return np.asarray(d.min(axis=1) > distance)


def _white_noise(kernel: Any) -> float:
    """The fitted WhiteKernel's noise level (normalised units), 0 if there is none."""
    for part in (getattr(kernel, "k2", None), getattr(kernel, "k1", None)):
        level = getattr(part, "noise_level", None)
        if level is not None:
            return float(level)
    return 0.0


def propose_gp(
    points: Sequence[Mapping[str, Any]] | pd.DataFrame,
    y: Response,
    space: FactorSpace,
    maximize: bool = True,
    n: int = 4,
    seed: int = 0,
    candidates: int = CANDIDATES,
) -> list[GpProposal]:
    """A batch of `n` runs by expected improvement from a GP fitted to every run so far.

    `points`: the runs (natural values keyed by factor name, every factor of
    the space; a DataFrame works too), `y`: their responses. Seeded: the same
    runs always give the same batch. Fewer than `n` proposals come back only
    when the space has fewer untried settings.
    """
    runs, values = _check(points, y, space, n)
    rng = np.random.default_rng(seed)
    x = _features(space, runs)
    sign = 1.0 if maximize else -1.0
    seen = {_key(space, p) for p in runs}
    pool: list[dict[str, Any]] = []
    for c in _candidates(space, candidates, rng):
        key = _key(space, c)
        if key not in seen:
            seen.add(key)
            pool.append(c)
    if not pool:
        return []
    xc = _features(space, pool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hyper-parameters at a bound are not an error here
        gp = _gp(seed).fit(x, values)
    kernel = gp.kernel_
    train_x, train_y = x, values
    best = float(np.max(sign * values))
    out: list[GpProposal] = []
    available = np.ones(len(pool), dtype=bool)
    # Candidates next to a run (within 5% of the coded range per factor, as a distance) would
    # only re-measure it: a deterministic estimator scores it the same, a noisy one nearly so.
    near = 0.1 * math.sqrt(x.shape[1])
    available &= _far(xc, x, near)
    chosen = np.zeros(len(pool), dtype=bool)
    if not available.any():
        available[:] = True
    noise = _white_noise(kernel) * float(np.mean(getattr(gp, "_y_train_std", 1.0))) ** 2
    for _ in range(min(n, len(pool))):
        mu, sd = gp.predict(xc, return_std=True)
        improve = sign * mu - best
        # EI on the latent function, not on one noisy observation (Jones, Schonlau & Welch
        # 1998): the fitted white noise would otherwise make a re-run of the best point look
        # as promising as an untried setting
        sd = np.sqrt(np.maximum(sd**2 - noise, 0.0))
        sd = np.maximum(sd, 1e-12)
        z = improve / sd
        ei = improve * stats.norm.cdf(z) + sd * stats.norm.pdf(z)
        ei[~available] = -np.inf
        i = int(np.argmax(ei))
        chosen[i] = True
        available &= ~chosen & _far(xc, xc[i : i + 1], near)
        if not available.any():  # a small space: only untried settings are left to propose
            available = ~chosen
        out.append(
            GpProposal(
                settings=dict(pool[i]),
                predicted=float(mu[i]),
                interval=(float(mu[i] - _Z95 * sd[i]), float(mu[i] + _Z95 * sd[i])),
                expected_improvement=float(max(ei[i], 0.0)),
            )
        )
        train_x = np.vstack([train_x, xc[i]])
        train_y = np.append(train_y, mu[i])
        best = max(best, float(sign * mu[i]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp = _gp(seed, kernel).fit(train_x, train_y)
    return out


__all__ = ["CANDIDATES", "GpProposal", "propose_gp"]
