"""Judging a design before any training: power, correlations, VIF, efficiencies, FDS.

The quantities JMP's Evaluate Design shows, computed from the coded runs and a
model alone (no response is needed, so nothing is trained):

- power per term to detect a coefficient of `delta` noise standard deviations
  (JMP's "anticipated coefficient" with RMSE 1): an F test of the term with
  noncentrality b' V^-1 b, V the term's block of (X'X)^-1;
- the absolute correlations of the model's columns with each other and with
  the two-factor interactions and quadratics left out of the model;
- variance inflation factors;
- D-, A- and G-efficiency (JMP's formulas, in percent) and the average
  relative prediction variance over the region (the I-criterion);
- the fraction of design space: quantiles of the relative prediction variance
  f(x)'(X'X)^-1 f(x) over points drawn uniformly in the coded region.

Numeric factors enter as their coded column (-1..+1); a categorical factor
with L levels as L-1 effect-coded columns (its two-level code when L = 2).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from libs.doe.space import CategoricalFactor, FactorSpace
from libs.errors import InputError

ModelName = Literal["linear", "interactions", "quadratic"]
MODELS: tuple[str, ...] = ("linear", "interactions", "quadratic")
FDS_FRACTIONS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _factor_columns(coded: pd.DataFrame, space: FactorSpace) -> dict[str, list[np.ndarray]]:
    """Each factor's columns in the model: one for a numeric factor, L-1 for a categorical."""
    out: dict[str, list[np.ndarray]] = {}
    for f in space.factors:
        if f.name not in coded.columns:
            raise InputError(f"design: no column for factor {f.name!r}")
        x = coded[f.name].to_numpy(dtype=float)
        if isinstance(f, CategoricalFactor) and len(f.levels) > 2:
            n = len(f.levels)
            index = np.clip(np.round((x + 1) * (n - 1) / 2), 0, n - 1).astype(int)
            out[f.name] = [
                np.where(index == level, 1.0, np.where(index == n - 1, -1.0, 0.0))
                for level in range(n - 1)
            ]
        else:
            out[f.name] = [x]
    return out


def _numeric(space: FactorSpace) -> list[str]:
    return [f.name for f in space.factors if not isinstance(f, CategoricalFactor)]


def _terms(
    columns: dict[str, list[np.ndarray]], space: FactorSpace, which: Sequence[str]
) -> dict[str, list[np.ndarray]]:
    """Terms of the given kinds ('main', 'interaction', 'quadratic'), label -> columns."""
    terms: dict[str, list[np.ndarray]] = {}
    if "main" in which:
        for name, cols in columns.items():
            terms[_short(name)] = cols
    if "interaction" in which:
        for a, b in itertools.combinations(columns, 2):
            terms[f"{_short(a)}*{_short(b)}"] = [
                ca * cb for ca, cb in itertools.product(columns[a], columns[b])
            ]
    if "quadratic" in which:
        for name in _numeric(space):
            terms[f"{_short(name)}^2"] = [columns[name][0] ** 2]
    return terms


_KINDS: dict[str, tuple[str, ...]] = {
    "linear": ("main",),
    "interactions": ("main", "interaction"),
    "quadratic": ("main", "interaction", "quadratic"),
}


def model_terms(
    coded: pd.DataFrame, space: FactorSpace, model: str
) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]]]:
    """The model's terms and the second-order terms outside it (label -> columns)."""
    if model not in _KINDS:
        raise InputError(f"model: {model!r} is not one of {', '.join(MODELS)}")
    columns = _factor_columns(coded, space)
    inside = _terms(columns, space, _KINDS[model])
    everything = _terms(columns, space, _KINDS["quadratic"])
    outside = {k: v for k, v in everything.items() if k not in inside}
    return inside, outside


def _matrix(terms: dict[str, list[np.ndarray]], n: int) -> tuple[np.ndarray, list[str], list[str]]:
    cols, labels, owner = [np.ones(n)], ["intercept"], ["intercept"]
    for label, columns in terms.items():
        for i, c in enumerate(columns):
            cols.append(c)
            labels.append(label if len(columns) == 1 else f"{label}[{i + 1}]")
            owner.append(label)
    return np.column_stack(cols), labels, owner


def supported_model(coded: pd.DataFrame, space: FactorSpace) -> str:
    """The largest of quadratic, interactions, linear whose model matrix has full rank."""
    for model in reversed(MODELS):
        inside, _ = model_terms(coded, space, model)
        x, _, _ = _matrix(inside, len(coded))
        if x.shape[0] >= x.shape[1] and np.linalg.matrix_rank(x) == x.shape[1]:
            return model
    return "linear"


def _region_sample(space: FactorSpace, n: int, seed: int) -> pd.DataFrame:
    """Points drawn uniformly over the coded region (categoricals: uniform over levels)."""
    rng = np.random.default_rng(seed)
    data = {}
    for f in space.factors:
        if isinstance(f, CategoricalFactor):
            k = len(f.levels)
            data[f.name] = -1 + 2 * rng.integers(0, k, n) / (k - 1)
        else:
            data[f.name] = rng.uniform(-1, 1, n)
    return pd.DataFrame(data)


def _vertices(space: FactorSpace, limit: int = 4096) -> pd.DataFrame | None:
    levels = []
    for f in space.factors:
        if isinstance(f, CategoricalFactor):
            k = len(f.levels)
            levels.append([-1 + 2 * i / (k - 1) for i in range(k)])
        else:
            levels.append([-1.0, 1.0])
    if math.prod(len(v) for v in levels) > limit:
        return None
    return pd.DataFrame(list(itertools.product(*levels)), columns=space.names)


@dataclass(frozen=True)
class DesignEvaluation:
    """What a design can tell, before any run: see the module docstring."""

    runs: int
    model: str
    terms: tuple[str, ...]
    parameters: int
    error_df: int
    estimable: bool
    power: pd.DataFrame  # index: term, columns: effect sizes (delta)
    correlations: pd.DataFrame  # |r|, rows: model columns, columns: model + outside columns
    vif: pd.Series
    d_efficiency: float
    a_efficiency: float
    g_efficiency: float
    average_variance: float
    fds: pd.Series  # fraction of design space -> relative prediction variance
    alpha: float
    notes: tuple[str, ...] = field(default=())

    def worst_correlations(self, limit: int = 3) -> list[tuple[str, str, float]]:
        """The largest |r| between a model column and any other column, largest first."""
        pairs = []
        corr = self.correlations
        for row in corr.index:
            for col in corr.columns:
                if col == row or (col in corr.index and col < row):
                    continue
                value = corr.loc[row, col]
                if np.isfinite(value) and value > 1e-9:
                    pairs.append((row, col, float(value)))
        return sorted(pairs, key=lambda p: -p[2])[:limit]


def evaluate_design(
    coded: pd.DataFrame,
    space: FactorSpace,
    model: str | None = None,
    effect_sizes: Sequence[float] = (1.0, 2.0),
    alpha: float = 0.05,
    samples: int = 4000,
    seed: int = 0,
) -> DesignEvaluation:
    """Evaluate the coded runs of a design for `model` (None: the largest it supports)."""
    if not 0 < alpha < 1:
        raise InputError(f"alpha: {alpha} must be between 0 and 1")
    if not effect_sizes or any(not (d > 0 and math.isfinite(d)) for d in effect_sizes):
        raise InputError(f"effect sizes: {list(effect_sizes)} must be positive numbers")
    model = model or supported_model(coded, space)
    inside, outside = model_terms(coded, space, model)
    n = len(coded)
    x, labels, owner = _matrix(inside, n)
    p = x.shape[1]
    notes: list[str] = []
    estimable = n >= p and np.linalg.matrix_rank(x) == p
    error_df = n - p
    # correlations: model columns against each other and the terms left out
    out_x, out_labels, _ = _matrix(outside, n)
    every = np.column_stack([x[:, 1:], out_x[:, 1:]])
    every_labels = labels[1:] + out_labels[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = every - every.mean(axis=0)
        norms = np.sqrt((centred**2).sum(axis=0))
        r = np.abs(centred.T @ centred) / np.outer(norms, norms)
    r[~np.isfinite(r)] = np.nan
    correlations = pd.DataFrame(
        r[: p - 1], index=every_labels[: p - 1], columns=every_labels
    ).round(6)
    terms = tuple(inside)
    nan_series = pd.Series(np.nan, index=labels[1:])
    if not estimable:
        notes.append(
            f"the {model} model has {p} parameters and the design estimates only "
            f"{np.linalg.matrix_rank(x)} of them: choose a smaller model or more runs"
        )
        return DesignEvaluation(
            runs=n,
            model=model,
            terms=terms,
            parameters=p,
            error_df=error_df,
            estimable=False,
            power=pd.DataFrame(np.nan, index=list(terms), columns=list(effect_sizes)),
            correlations=correlations,
            vif=nan_series,
            d_efficiency=0.0,
            a_efficiency=0.0,
            g_efficiency=0.0,
            average_variance=math.inf,
            fds=pd.Series(math.inf, index=list(FDS_FRACTIONS)),
            alpha=alpha,
            notes=tuple(notes),
        )
    xtx = x.T @ x
    inv = np.linalg.inv(xtx)
    # power per term (F test with the term's columns; sigma = 1)
    power = pd.DataFrame(index=list(terms), columns=list(effect_sizes), dtype=float)
    if error_df < 1:
        notes.append(
            f"{n} runs for {p} parameters leave no error degrees of freedom: no test has "
            "power (add runs, centre points or replicates)"
        )
    for term in terms:
        idx = [i for i, o in enumerate(owner) if o == term]
        block = inv[np.ix_(idx, idx)]
        sign = np.array([(-1.0) ** i for i in range(len(idx))])
        for delta in effect_sizes:
            if error_df < 1:
                power.loc[term, delta] = np.nan
                continue
            b = delta * sign
            lam = float(b @ np.linalg.solve(block, b))
            crit = stats.f.ppf(1 - alpha, len(idx), error_df)
            power.loc[term, delta] = float(stats.ncf.sf(crit, len(idx), error_df, lam))
    centred_x = x[:, 1:] - x[:, 1:].mean(axis=0)
    ss = (centred_x**2).sum(axis=0)
    vif = pd.Series(np.diag(inv)[1:] * ss, index=labels[1:])
    sign_det, logdet = np.linalg.slogdet(xtx)
    d_eff = 100 * math.exp(logdet / p) / n if sign_det > 0 else 0.0
    a_eff = 100 * p / (n * float(np.trace(inv)))
    region = _region_sample(space, samples, seed)
    inside_region, _ = model_terms(region, space, model)
    f, _, _ = _matrix(inside_region, samples)
    variance = np.einsum("ij,jk,ik->i", f, inv, f)
    # The largest variance sits on the region's boundary: check the vertices of the cube
    # (each numeric factor at +-1, categoricals at every level) where there are few enough.
    corners = _vertices(space)
    worst = float(variance.max())
    if corners is not None:
        corner_terms, _ = model_terms(corners, space, model)
        fc, _, _ = _matrix(corner_terms, len(corners))
        worst = max(worst, float(np.einsum("ij,jk,ik->i", fc, inv, fc).max()))
    g_eff = 100 * math.sqrt(p / n) / math.sqrt(worst)
    fds = pd.Series(np.quantile(variance, FDS_FRACTIONS), index=list(FDS_FRACTIONS))
    return DesignEvaluation(
        runs=n,
        model=model,
        terms=terms,
        parameters=p,
        error_df=error_df,
        estimable=True,
        power=power,
        correlations=correlations,
        vif=vif,
        d_efficiency=d_eff,
        a_efficiency=a_eff,
        g_efficiency=g_eff,
        average_variance=float(variance.mean()),
        fds=fds,
        alpha=alpha,
        notes=tuple(notes),
    )


def comparison_table(evaluations: dict[str, DesignEvaluation]) -> pd.DataFrame:
    """Headline figures of several designs side by side (one column per design).

    I-efficiency is relative to the design here with the smallest average
    prediction variance (for the same model), the way JMP's Compare Designs
    reports it.
    """
    best: dict[str, float] = {}
    for e in evaluations.values():
        if e.estimable:
            best[e.model] = min(best.get(e.model, math.inf), e.average_variance)
    rows: dict[str, dict[str, object]] = {}
    for name, e in evaluations.items():
        min_power = {f"min power (delta={d:g})": e.power[d].min() for d in e.power.columns}
        rows[name] = {
            "runs": e.runs,
            "model": e.model,
            "parameters": e.parameters,
            "error df": e.error_df,
            **min_power,
            "max VIF": float(e.vif.max()) if e.estimable else math.inf,
            "D-efficiency %": e.d_efficiency,
            "A-efficiency %": e.a_efficiency,
            "G-efficiency %": e.g_efficiency,
            "average variance": e.average_variance,
            "I-efficiency % (vs best here)": (
                100 * best[e.model] / e.average_variance if e.estimable else 0.0
            ),
        }
    return pd.DataFrame(rows)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _table(frame: pd.DataFrame) -> list[str]:
    """A plain-text table: the index in the first column."""
    header = ["", *(str(c) for c in frame.columns)]
    body = [
        [str(i), *(_fmt(v) for v in row)] for i, row in zip(frame.index, frame.values, strict=True)
    ]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]
    return [
        "  ".join(
            cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j]) for j, cell in enumerate(r)
        )
        for r in [header, *body]
    ]


def evaluation_lines(evaluations: dict[str, DesignEvaluation], kinds: dict[str, str]) -> list[str]:
    """The evaluation of one design, or several side by side, as terminal lines."""
    names = list(evaluations)
    first = evaluations[names[0]]
    lines = [
        f"Design evaluation before any training (noise SD 1, alpha {first.alpha:g}); "
        "power is for a coefficient of delta noise SDs",
        "",
    ]
    table = comparison_table(evaluations)
    table.loc["design"] = [kinds.get(n, "") for n in names]
    table = table.reindex(["design", *(i for i in table.index if i != "design")])
    lines += _table(table)
    power = pd.DataFrame(
        {
            f"{name} d={d:g}" if len(names) > 1 else f"d={d:g}": e.power[d]
            for name, e in evaluations.items()
            for d in e.power.columns
        }
    )
    lines += ["", "Power per term", *_table(power)]
    vif = pd.DataFrame({name: e.vif for name, e in evaluations.items()})
    lines += ["", "Variance inflation factors", *_table(vif)]
    fds = pd.DataFrame({name: e.fds for name, e in evaluations.items()})
    fds.index = [f"{q:.0%} of the region" for q in fds.index]
    lines += ["", "Relative prediction variance (fraction of design space)", *_table(fds)]
    lines += ["", "Largest |r| of model terms with other terms (1 = aliased, 0 = orthogonal)"]
    for name, e in evaluations.items():
        worst = e.worst_correlations(3)
        said = ", ".join(f"{a} ~ {b} {r:.2f}" for a, b, r in worst) or "none: all orthogonal"
        lines.append(f"  {name}: {said}")
    for name, e in evaluations.items():
        lines += [f"  {name}: {note}" for note in e.notes]
    return lines


__all__ = [
    "FDS_FRACTIONS",
    "MODELS",
    "DesignEvaluation",
    "ModelName",
    "comparison_table",
    "evaluate_design",
    "evaluation_lines",
    "model_terms",
    "supported_model",
]
