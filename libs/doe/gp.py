"""A model-based stage: a Gaussian process on every run so far, proposals by expected improvement.

The runs (natural units) are coded as the designs code them (numeric factors
on [-1, 1], log ones in log space, an integer factor at the value it ran
with), categorical factors one-hot. A scikit-learn `GaussianProcessRegressor`
(Matern 5/2 with one length scale per column, so that a factor that does not
matter gets a long one and stops diluting the distances of those that do,
fitted with a Gamma prior on the length scales; plus a white-noise term,
`normalize_y`) is fitted to them. A batch is chosen by expected improvement
over the best the GP believes of the runs (its mean at the best run: the
plug-in incumbent of a noisy response), among candidates spread over the
factor space's box and around the best runs (`libs.doe.gp_candidates`), one
at a time, each chosen candidate taken as if it had scored as badly as the
worst run before the next is chosen (the pessimistic constant liar;
Ginsbourger, Le Riche and Carraro 2010). Candidates are decoded to the values
that would be trained (integers rounded) before they are scored, and no
proposal repeats a run or another proposal.
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
from libs.doe.gp_candidates import gp_candidates
from libs.doe.space import CategoricalFactor, FactorSpace
from libs.errors import InputError

CANDIDATES = 4000
# Length scales in coded units (a factor spans 2): from a twentieth of a factor's range to
# fifty ranges (flat: an inactive factor); the prior below keeps them in between.
LENGTH_SCALE_BOUNDS = (0.1, 100.0)
RESTARTS = 5
# The length scales' prior (maximum a posteriori, not maximum likelihood): Gamma(3, 6) on a
# unit cube (BoTorch's and Ax's long-standing default for a GP on a few dozen runs), which on
# our coded range (twice as wide) is Gamma(3, 3): most mass between a quarter of a factor's
# range and a little over one range. With one length scale per column, maximum likelihood
# on a screening design's handful of runs readily interpolates with a length scale at its
# lower bound, and then every prediction is the mean and expected improvement mere distance.
PRIOR_SHAPE, PRIOR_RATE = 3.0, 3.0


def _map_optimizer(obj_func: Any, initial_theta: np.ndarray, bounds: np.ndarray) -> Any:
    """scikit-learn's hyper-parameter search with the length scales' Gamma prior added.

    theta (log hyper-parameters) is [constant, length scales..., noise] for `_gp`'s kernel."""
    from scipy.optimize import minimize

    scales = slice(1, len(initial_theta) - 1)
    a, b = PRIOR_SHAPE, PRIOR_RATE

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        # theta = log(length scale): the Gamma log-density in theta is a*theta - b*exp(theta)
        value, grad = obj_func(theta, eval_gradient=True)
        t = theta[scales]
        grad = np.array(grad, dtype=float)
        grad[scales] -= a - b * np.exp(t)
        return float(value - np.sum(a * t - b * np.exp(t))), grad

    found = minimize(objective, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds)
    return found.x, found.fun


_Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class GpProposal:
    """One proposed run: every factor in natural units, and what the GP fitted to the runs
    says of it: its prediction, a 95% interval for one run (the noise term included) and
    its expected improvement (the batch's later runs were chosen with the earlier ones
    taken as scored, so their improvement on their own is smaller)."""

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
                index = f.index(f.encode(p[f.name]))
                row += [1.0 if i == index else 0.0 for i in range(len(f.levels))]
            else:
                row.append(float(f.encode(p[f.name])))
        rows.append(row)
    return np.asarray(rows, dtype=float)


def _key(space: FactorSpace, point: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        round(float(point[n]), 9) if isinstance(point[n], float) else point[n] for n in space.names
    )


def _gp(seed: int, columns: int, kernel: Any = None) -> Any:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    if kernel is not None:  # a believer refit keeps the fitted hyper-parameters
        return GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=True)
    base = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=np.ones(columns), length_scale_bounds=LENGTH_SCALE_BOUNDS, nu=2.5
    )
    return GaussianProcessRegressor(
        # with normalize_y the responses have variance 1: noise beyond that explains nothing
        kernel=base + WhiteKernel(1e-2, (1e-8, 1.0)),
        normalize_y=True,
        n_restarts_optimizer=RESTARTS,
        optimizer=_map_optimizer,
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


def _columns(space: FactorSpace) -> list[str]:
    """The GP's input columns: a numeric factor's name, a categorical one's `name=level`."""
    out: list[str] = []
    for f in space.factors:
        if isinstance(f, CategoricalFactor):
            out += [f"{f.name}={level}" for level in f.levels]
        else:
            out.append(f.name)
    return out


def fitted_length_scales(
    points: Sequence[Mapping[str, Any]] | pd.DataFrame,
    y: Response,
    space: FactorSpace,
    seed: int = 0,
) -> dict[str, float]:
    """The length scale the GP fits to each input column (coded units; long: the response
    hardly changes along it), keyed as `_columns` names them."""
    runs, values = _check(points, y, space, 1)
    x = _features(space, runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kernel = _gp(seed, x.shape[1]).fit(x, values).kernel_
    scales = np.atleast_1d(kernel.k1.k2.length_scale).astype(float)
    return dict(zip(_columns(space), scales.tolist(), strict=True))


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hyper-parameters at a bound are not an error here
        gp = _gp(seed, x.shape[1]).fit(x, values)
    kernel = gp.kernel_
    # the incumbent: the GP's mean at the runs, not the raw best (a noisy best run would make
    # every improvement look smaller than it is; Picheny et al. 2013's plug-in EI)
    at_runs = sign * gp.predict(x)
    seen = {_key(space, p) for p in runs}
    pool: list[dict[str, Any]] = []
    for c in gp_candidates(space, runs, at_runs, candidates, rng):
        key = _key(space, c)
        if key not in seen:
            seen.add(key)
            pool.append(c)
    if not pool:
        return []
    xc = _features(space, pool)
    train_x, train_y = x, values
    best = float(np.max(at_runs))
    worst = float(values[int(np.argmin(sign * values))])
    out: list[GpProposal] = []
    available = np.ones(len(pool), dtype=bool)
    # Candidates next to a run (within 5% of the coded range per factor, as a distance) would
    # only re-measure it: a deterministic estimator scores it the same, a noisy one nearly so.
    near = 0.1 * math.sqrt(x.shape[1])
    available &= _far(xc, x, near)
    chosen = np.zeros(len(pool), dtype=bool)
    if not available.any():
        available[:] = True
    # the noise of one run in natural units, from the fit to the real runs (the lies below
    # would inflate it)
    noise = _white_noise(kernel) * float(np.mean(getattr(gp, "_y_train_std", 1.0))) ** 2
    first: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    for _ in range(min(n, len(pool))):
        mu, sd_run = gp.predict(xc, return_std=True)
        # EI on the latent function, not on one noisy observation (Jones, Schonlau & Welch
        # 1998): the fitted white noise would otherwise make a re-run of the best point look
        # as promising as an untried setting
        sd = np.maximum(np.sqrt(np.maximum(sd_run**2 - noise, 0.0)), 1e-12)
        improve = sign * mu - best
        z = improve / sd
        ei = improve * stats.norm.cdf(z) + sd * stats.norm.pdf(z)
        # what a proposal reports is what the GP fitted to the real runs says of it
        first = first or (mu, sd_run, ei.copy())
        ei[~available] = -np.inf
        i = int(np.argmax(ei))
        chosen[i] = True
        available &= ~chosen & _far(xc, xc[i : i + 1], near)
        if not available.any():  # a small space: only untried settings are left to propose
            available = ~chosen
        mu0, sd0, ei0 = first
        out.append(
            GpProposal(
                settings=dict(pool[i]),
                predicted=float(mu0[i]),
                # one run's interval: the latent spread and the fitted noise
                interval=(float(mu0[i] - _Z95 * sd0[i]), float(mu0[i] + _Z95 * sd0[i])),
                expected_improvement=float(max(ei0[i], 0.0)),
            )
        )
        # the constant liar, pessimistic (CL-min; Ginsbourger, Le Riche and Carraro 2010): the
        # chosen candidate is taken to have scored as badly as the worst run, so the next
        # choice looks elsewhere unless the GP is sure it is better there too; believing the
        # GP's own mean instead fills a batch of eight with near-copies of the first choice
        train_x = np.vstack([train_x, xc[i]])
        train_y = np.append(train_y, worst)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp = _gp(seed, x.shape[1], kernel).fit(train_x, train_y)
    return out


__all__ = ["CANDIDATES", "LENGTH_SCALE_BOUNDS", "GpProposal", "fitted_length_scales", "propose_gp"]
