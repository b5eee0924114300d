"""A study's recommendation: the best setting its runs support, with a prediction interval.

`recommend` fits the richest model the runs support (second-order, then
first-order with two-factor interactions, then first-order) by OLS in coded
units and, when that model is significant and shows no significant lack of
fit, recommends its best predicted setting inside the design's region
(`Region.of`, the region `analyse` and `response_surface` search). Otherwise
it recommends the best run (the best mean over replicates of one setting) and
says why. Either way the interval is a 95% prediction interval for one new
run (Montgomery, 9th ed., section 10.6 for the model; a t-interval from the
replicate or residual spread for the best run).

The setting names every factor of the space in natural units, exactly as it
would be trained: integer factors rounded, continuous ones to four
significant digits, and the prediction and interval recomputed at the
rounded setting. Factors outside the fitted surface are held at the level the
runs support best, and `held` says which and why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from libs.doe.analysis import Response
from libs.doe.anova import pure_error, pure_error_estimable
from libs.doe.canonical import Region, best_in_region
from libs.doe.limits import clamp
from libs.doe.models import levels, sum_coded
from libs.doe.names import Namer, region_words
from libs.doe.space import CategoricalFactor, ContinuousFactor, FactorSpace, IntegerFactor
from libs.errors import InputError

_DECIMALS = 9
_DIGITS = 4  # significant digits of a recommended continuous value


@dataclass(frozen=True)
class Recommendation:
    """The setting to train next (or to confirm), what it should score, and why.

    `settings`: every factor of the space, natural units, as trained.
    `predicted`: the fitted (or best-run mean) response there; `interval`: the
    `level` prediction interval for ONE new run. `source`: "model" or "best
    run". `reason`: one sentence in factor names. `held`: factor -> why it is
    at its value, for every factor outside the fitted surface. `coded`: the
    coded values of the varied factors at the setting.
    """

    settings: dict[str, Any]
    predicted: float
    interval: tuple[float, float]
    source: str
    reason: str
    held: dict[str, str] = field(default_factory=dict)
    coded: dict[str, float] = field(default_factory=dict)
    model: str = ""  # "second-order", "first-order with interactions", "first-order"
    model_p: float | None = None
    lack_of_fit_p: float | None = None
    on_boundary: bool = False
    maximize: bool = True
    level: float = 0.95
    runs: int = 1  # runs averaged for a best-run recommendation
    # The interval's parts: `se` is the standard deviation of ONE new run's response about
    # `predicted` (so interval = predicted +- t(level, df) * se); nan when there is none.
    se: float = math.nan
    df: float = 0.0
    settings_compared: int = 1  # distinct settings a best run was picked from
    # Where `se` comes from: "model" (the fit's prediction error), "replicates" (the best
    # setting's replicate spread, pure error), "residual" or "all runs" (a best run whose
    # replicates could not measure it: a spread across settings, not of this setting), "".
    spread: str = ""


def _region_clause(coded: Mapping[str, float], space: FactorSpace, observed: bool = False) -> str:
    """` It lies outside the factor ranges by 1.4 coded units (...).` or "" inside them."""
    words = region_words(coded, Namer.of(space))
    if not words:
        return ""
    what = "a run made there" if observed else "an extrapolation, less sure than its interval"
    return f" It lies {words}: {what}."


def fmt(value: Any) -> str:
    """A natural value as a person reads it."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def where(settings: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={fmt(v)}" for k, v in settings.items())


@dataclass(frozen=True)
class _Model:
    name: str
    columns: list[str]  # exog column names, "const" first
    x: np.ndarray
    surface: list[str]
    others: dict[str, list[float]]  # factor outside the surface -> its coded levels
    n_blocks: int


def _surface_columns(x: np.ndarray, names: list[str], kind: str) -> tuple[np.ndarray, list[str]]:
    cols, labels = [x[:, j] for j in range(len(names))], list(names)
    if kind in ("second-order", "first-order with interactions"):
        for a, b in itertools.combinations(range(len(names)), 2):
            cols.append(x[:, a] * x[:, b])
            labels.append(f"{names[a]}:{names[b]}")
    if kind == "second-order":
        cols += [x[:, j] ** 2 for j in range(len(names))]
        labels += [f"{n}^2" for n in names]
    return (np.column_stack(cols) if cols else np.zeros((len(x), 0))), labels


def _design(
    frame: pd.DataFrame, surface: list[str], others: list[str], block: np.ndarray | None, kind: str
) -> _Model:
    n = len(frame)
    xs, labels = _surface_columns(frame[surface].to_numpy(dtype=float), surface, kind)
    cols, names = [np.ones((n, 1)), xs], ["const", *labels]
    lv = {}
    for name in others:
        lv[name] = levels(frame[name])
        cols.append(sum_coded(frame[name]))
        names += [f"{name}[{fmt(v)}]" for v in lv[name][:-1]]
    n_blocks = 0
    if block is not None and len(set(block.tolist())) > 1:
        dummies = sum_coded(pd.Series(block, dtype=float))
        n_blocks = dummies.shape[1]
        cols.append(dummies)
        names += [f"block[{i}]" for i in range(n_blocks)]
    return _Model(kind, names, np.column_stack(cols), surface, lv, n_blocks)


def _candidates(frame: pd.DataFrame, surface: list[str]) -> list[str]:
    three = all(len(levels(frame[n])) >= 3 for n in surface)
    kinds = ["second-order"] if three and surface else []
    if len(surface) >= 2:
        kinds.append("first-order with interactions")
    return [*kinds, "first-order"]


def _choose(
    frame: pd.DataFrame, surface: list[str], others: list[str], block: np.ndarray | None
) -> _Model | None:
    """The richest model that is full rank and leaves residual df (>= 2 unless first-order)."""
    n = len(frame)
    for kind in _candidates(frame, surface):
        model = _design(frame, surface, others, block, kind)
        p = model.x.shape[1]
        need = 1 if kind == "first-order" else 2
        if p == 1 or n - p < need:
            continue
        if np.linalg.matrix_rank(model.x) == p:
            return model
    return None


def _model_p(fit: Any, model: _Model, y: np.ndarray) -> float:
    """The overall F test of the model's factor terms (blocks are not factors)."""
    base = model.x[:, [0, *range(model.x.shape[1] - model.n_blocks, model.x.shape[1])]]
    reduced = sm.OLS(y, base).fit()
    df_num = model.x.shape[1] - base.shape[1]
    df_res = int(fit.df_resid)
    ms_res = float(fit.ssr) / df_res
    if ms_res <= 0:
        return 0.0
    f = (float(reduced.ssr) - float(fit.ssr)) / df_num / ms_res
    return float(stats.f.sf(f, df_num, df_res))


def _lack_of_fit_p(fit: Any, keys: pd.DataFrame, y: np.ndarray) -> tuple[float | None, float, int]:
    """The lack-of-fit p-value, or None when it cannot be tested: no replicates, no df left
    for lack of fit, or replicates that agree exactly (zero pure error, a deterministic
    estimator: `pure_error_estimable`), which is "not estimable", not "infinitely precise"."""
    pe_ss, pe_df = pure_error(keys, y)
    lof_df = int(fit.df_resid) - pe_df
    if pe_df < 1 or lof_df < 1 or not pure_error_estimable(pe_ss, pe_df, y):
        return None, pe_ss, pe_df
    lof_ss = max(float(fit.ssr) - pe_ss, 0.0)
    f = (lof_ss / lof_df) / (pe_ss / pe_df)
    return float(stats.f.sf(f, lof_df, pe_df)), pe_ss, pe_df


def _level_effects(fit: Any, model: _Model, name: str) -> list[float]:
    """Each level's fitted effect (sum coding: the last level is minus the sum)."""
    params = pd.Series(np.asarray(fit.params), index=model.columns)
    lv = model.others[name]
    coefs = [float(params[f"{name}[{fmt(v)}]"]) for v in lv[:-1]]
    return [*coefs, -sum(coefs)]


def _row(model: _Model, coded: Mapping[str, float], chosen: Mapping[str, int]) -> np.ndarray:
    x = np.array([[coded[n] for n in model.surface]], dtype=float)
    xs, _ = _surface_columns(x, model.surface, model.name)
    parts = [np.ones(1), xs[0]]
    for name, lv in model.others.items():
        dummy = np.zeros(len(lv) - 1)
        i = chosen[name]
        if i == len(lv) - 1:
            dummy[:] = -1.0
        else:
            dummy[i] = 1.0
        parts.append(dummy)
    parts.append(np.zeros(model.n_blocks))  # blocks at their average
    return np.concatenate(parts)


def _quadratic(fit: Any, model: _Model) -> tuple[np.ndarray, np.ndarray]:
    params = pd.Series(np.asarray(fit.params), index=model.columns)
    names = model.surface
    b = np.array([params[n] for n in names], dtype=float)
    B = np.zeros((len(names), len(names)))
    for (i, a), (j, c) in itertools.combinations(enumerate(names), 2):
        key = f"{a}:{c}"
        if key in params:
            B[i, j] = B[j, i] = float(params[key]) / 2
    for i, a in enumerate(names):
        if f"{a}^2" in params:
            B[i, i] = float(params[f"{a}^2"])
    return b, B


def _natural(
    factor: ContinuousFactor | IntegerFactor | CategoricalFactor, coded: float
) -> tuple[Any, str]:
    """A coded value as it would be trained, and a note when rounding or a limit moved it."""
    if isinstance(factor, CategoricalFactor):
        return factor.decode(coded), ""
    if isinstance(factor, IntegerFactor):
        raw: float = (factor.low + factor.high) / 2 + coded * (factor.high - factor.low) / 2
        value: Any = factor.decode(coded, clip=False)
    else:
        raw = factor.decode(coded)
        value = float(f"{raw:.{_DIGITS}g}")
    value, moved = clamp(factor, value)
    note = ""
    if moved:
        note = f"{factor.name} {raw:.4g} -> {fmt(value)} (its hard limit)"
    elif isinstance(factor, IntegerFactor) and abs(raw - value) > 1e-6:
        note = f"{factor.name} {raw:.4g} -> {value} (integer)"
    return value, note


def _held_outside(
    space: FactorSpace,
    frame: pd.DataFrame,
    varying: list[str],
    hold: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Values and reasons of the factors the runs did not vary (constant or absent)."""
    values: dict[str, Any] = {}
    why: dict[str, str] = {}
    for f in space.factors:
        if f.name in varying:
            continue
        if f.name in frame.columns:
            code = float(frame[f.name].iloc[0])
            v = f.decode(code, clip=False) if isinstance(f, IntegerFactor) else f.decode(code)
            values[f.name], why[f.name] = v, f"held at {fmt(v)} in every run analysed"
        elif f.name in hold:
            f.encode(hold[f.name])  # a level that is not the factor's fails here
            values[f.name] = hold[f.name]
            why[f.name] = (
                f"held at {fmt(hold[f.name])}, the level given (best earlier in the study)"
            )
        else:
            v = f.decode(0.0)
            values[f.name] = v
            why[f.name] = f"not varied in these runs: at the centre of its range ({fmt(v)})"
    return values, why


def _check(
    coded: pd.DataFrame, y: Response, space: FactorSpace, alpha: float
) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(coded, pd.DataFrame) or coded.shape[1] == 0:
        raise InputError("coded: expected a DataFrame with one column per factor")
    unknown = [str(c) for c in coded.columns if c not in space.names]
    if unknown:
        raise InputError(f"coded: columns not in the factor space: {', '.join(unknown)}")
    values = np.asarray(y, dtype=float).ravel()
    if len(values) != len(coded) or len(values) == 0:
        raise InputError(f"y: {len(values)} responses for {len(coded)} runs")
    if not np.all(np.isfinite(values)):
        raise InputError("y: responses must be finite numbers")
    if not 0 < alpha < 1:
        raise InputError(f"alpha: must be between 0 and 1, got {alpha}")
    bad = [str(c) for c in coded.columns if not pd.api.types.is_numeric_dtype(coded[c])]
    if bad:
        raise InputError(f"coded: column {bad[0]!r} is not numeric (coded values are numbers)")
    frame = coded.reset_index(drop=True).astype(float).round(_DECIMALS)
    return frame, values


def recommend(
    coded: pd.DataFrame,
    y: Response,
    space: FactorSpace,
    *,
    maximize: bool = True,
    factors: Sequence[str] | None = None,
    hold: Mapping[str, Any] | None = None,
    block: Sequence[int] | None = None,
    alpha: float = 0.05,
    at_least_best_run: bool = False,
) -> Recommendation:
    """The best setting the runs support: a model's best predicted one, or the best run.

    `coded`: the runs analysed (coded, one column per factor; every stage of
    the study so far, so the model sees all of them). `factors`: the numeric
    factors of the surface (default: every numeric factor that varies).
    Factors that vary but are outside the surface (categorical ones) enter
    the model as additive effects and are set to their best fitted level.
    `hold`: natural values for factors absent from `coded` (the level an
    earlier stage found best); absent and not held, a factor sits at its
    centre, and `held` says so. `block`: one stage number per run. `alpha`:
    the significance level of the model and lack-of-fit tests, and 1 - the
    interval's level.

    `at_least_best_run` (after a model-based stage, whose runs crowd where an
    optimiser thought best and whose region is the whole space): the model's
    point is kept only when the model fits well (lack of fit tested and not
    significant, or untested with adjusted R^2 >= 0.9) AND predicts better than
    the best run's mean; otherwise the best observed setting is recommended.
    A low-order polynomial over a whole search space otherwise easily "finds"
    a point worse than one already run.
    """
    frame, values = _check(coded, y, space, alpha)
    hold = dict(hold or {})
    varying = [c for c in frame.columns if frame[c].nunique() > 1]
    numeric = [c for c in varying if not isinstance(space.factor(c), CategoricalFactor)]
    if factors is None:
        surface = numeric
    else:
        bad = [f for f in factors if f not in numeric]
        if bad:
            raise InputError(
                f"factors: {', '.join(bad)} is not a numeric factor that varies in the runs"
            )
        surface = list(factors)
    others = [c for c in varying if c not in surface]
    blocks = None if block is None else np.asarray(block, dtype=float)
    if blocks is not None and len(blocks) != len(frame):
        raise InputError(f"block: {len(blocks)} values for {len(frame)} runs")
    fixed, held = _held_outside(space, frame, varying, hold)
    keys = frame[varying] if varying else frame
    model = _choose(frame, surface, others, blocks) if varying else None
    if model is None:
        why = "no model of the varied factors leaves residual degrees of freedom to test it"
        return _best_run(frame, values, space, varying, fixed, held, maximize, alpha, why, None)
    fit = sm.OLS(values, model.x).fit()
    p = _model_p(fit, model, values)
    lof_p, _, pe_df = _lack_of_fit_p(fit, keys, values)
    factor_words = ", ".join([*surface, *others])
    if lof_p is not None and lof_p < alpha:
        why = (
            f"the {model.name} model in {factor_words} shows significant lack of fit "
            f"(p = {lof_p:.3g}), so no fitted optimum is claimed; augment the design, "
            "transform the response, or narrow the region"
        )
        return _best_run(frame, values, space, varying, fixed, held, maximize, alpha, why, fit)
    if not p < alpha:
        why = f"no effect of {factor_words} is significant (model p = {p:.3g})"
        return _best_run(frame, values, space, varying, fixed, held, maximize, alpha, why, fit)
    pe_ss, _ = pure_error(keys, values)
    if lof_p is not None:
        lof = f"no significant lack of fit (p = {lof_p:.3g})"
    elif pe_df and not pure_error_estimable(pe_ss, pe_df, values):
        lof = (
            "lack of fit untested (replicated runs scored exactly the same, as a deterministic "
            "estimator does: pure error is not estimable)"
        )
    elif pe_df:
        lof = "lack of fit untested (the model has a term for every distinct setting)"
    else:
        lof = "lack of fit untested (no replicated runs)"
    rec = _from_model(fit, model, frame, space, fixed, held, maximize, alpha, p, lof_p, lof)
    if at_least_best_run:
        best = _best_run(frame, values, space, varying, fixed, held, maximize, alpha, "", fit)
        sign = 1.0 if maximize else -1.0
        fits = lof_p is not None or float(fit.rsquared_adj) >= 0.9
        if not fits or not sign * rec.predicted > sign * best.predicted:
            why = f"the {model.name} model in {factor_words} " + (
                f"predicts {rec.predicted:.4g} at its best point, no better than the "
                f"best run's {best.predicted:.4g}"
                if fits
                else f"fits the runs too loosely to move away from them (adjusted R^2 = "
                f"{fit.rsquared_adj:.3f}, {lof})"
            )
            return _best_run(frame, values, space, varying, fixed, held, maximize, alpha, why, fit)
        far = _unsupported_gain(rec, best, frame, float(np.sqrt(fit.scale)), sign)
        if far:
            why = f"the {model.name} model in {factor_words} {far}"
            return _best_run(frame, values, space, varying, fixed, held, maximize, alpha, why, fit)
    return rec


# A model's point far from every run (coded distance) that claims a gain over the best run
# of more than this many residual SDs is an extrapolation the runs do not support.
FAR_FROM_RUNS = 1.0
GAIN_IN_SDS = 2.0


def _unsupported_gain(
    rec: Recommendation, best: Recommendation, frame: pd.DataFrame, sd: float, sign: float
) -> str:
    """Why a model's best point is not to be trusted over the best run, or "".

    After a model-based stage the runs crowd where the optimiser looked; a
    polynomial through them can claim a large gain in a corner no run is near
    (a GP study once predicted R^2 0.61 where its best run had 0.47 and the
    point confirmed at 0.47). Kept only when a run is near it, or its claimed
    gain is within the runs' own noise.
    """
    columns = [c for c in frame.columns if c in rec.coded]
    if not columns or not np.isfinite(sd) or sd <= 0:
        return ""
    point = np.array([float(rec.coded[c]) for c in columns])
    distance = float(np.min(np.linalg.norm(frame[columns].to_numpy(float) - point, axis=1)))
    gain = sign * (rec.predicted - best.predicted)
    if distance <= FAR_FROM_RUNS or gain <= GAIN_IN_SDS * sd:
        return ""
    return (
        f"predicts {rec.predicted:.4g} at a point {distance:.2f} coded units from the nearest "
        f"run, {gain / sd:.1f} residual SDs beyond the best run's {best.predicted:.4g}: an "
        "extrapolation the runs do not support, so the best run is recommended"
    )


def _from_model(
    fit: Any,
    model: _Model,
    frame: pd.DataFrame,
    space: FactorSpace,
    fixed: dict[str, Any],
    held: dict[str, str],
    maximize: bool,
    alpha: float,
    p: float,
    lof_p: float | None,
    lof: str,
) -> Recommendation:
    sign = 1.0 if maximize else -1.0
    chosen: dict[str, int] = {}
    settings = dict(fixed)
    held = dict(held)
    for name, lv in model.others.items():
        effects = _level_effects(fit, model, name)
        i = int(np.argmax([sign * e for e in effects]))
        chosen[name] = i
        f = space.factor(name)
        value, _ = _natural(f, lv[i])
        settings[name] = value
        held[name] = (
            f"outside the surface: at {fmt(value)}, its best fitted level "
            f"({effects[i]:+.4g} against the average of its levels)"
        )
    surface = model.surface
    x = frame[surface].to_numpy(dtype=float)
    region = Region.of(x)
    best = np.zeros(0)
    if surface:
        b, B = _quadratic(fit, model)
        best = best_in_region(0.0, b, B, region, np.unique(x, axis=0), maximize)
    coded: dict[str, float] = {}
    moves = []
    for j, name in enumerate(surface):
        f = space.factor(name)
        value, note = _natural(f, float(best[j]))
        settings[name] = value
        coded[name] = float(f.encode(value))
        if note:
            moves.append(note)
    for name, i in chosen.items():
        coded[name] = float(model.others[name][i])
    row = _row(model, coded, chosen)
    frame_pred = fit.get_prediction(row[None, :]).summary_frame(alpha=alpha)
    predicted = float(frame_pred["mean"].iloc[0])
    se = math.sqrt(float(frame_pred["mean_se"].iloc[0]) ** 2 + float(fit.scale))
    interval = (
        float(frame_pred["obs_ci_lower"].iloc[0]),
        float(frame_pred["obs_ci_upper"].iloc[0]),
    )
    if not se > 0:  # an exact fit has no spread to state an interval from
        se, interval = math.nan, (math.nan, math.nan)
    on_edge = bool(surface) and region.on_boundary(np.array([coded[n] for n in surface]))
    shape = "spherical" if region.spherical else "cuboidal"
    edge = ", on the region's boundary (the optimum may lie beyond it)" if on_edge else ""
    rounded = f"; rounded {'; '.join(moves)}, predicted where it will run" if moves else ""
    varied = [*surface, *model.others]
    inside = f" inside the design's {shape} region" if surface else ""
    reason = (
        f"The {model.name} model in {', '.join(varied)} is significant (p = {p:.3g}, "
        f"R^2 = {fit.rsquared:.3f}, {lof}); its best predicted setting{inside} is "
        f"{where({n: settings[n] for n in varied})}{edge}{rounded}."
    )
    ordered = {f.name: settings[f.name] for f in space.factors}
    reason += _region_clause(coded, space)
    return Recommendation(
        settings=ordered,
        predicted=predicted,
        interval=interval,
        source="model",
        reason=reason,
        held={n: held[n] for n in ordered if n in held},
        coded=coded,
        model=model.name,
        model_p=p,
        lack_of_fit_p=lof_p,
        on_boundary=on_edge,
        maximize=maximize,
        level=1 - alpha,
        runs=1,
        se=se,
        df=float(fit.df_resid),
        spread="model",
    )


def _best_run(
    frame: pd.DataFrame,
    values: np.ndarray,
    space: FactorSpace,
    varying: list[str],
    fixed: dict[str, Any],
    held: dict[str, str],
    maximize: bool,
    alpha: float,
    why: str,
    fit: Any,
) -> Recommendation:
    """The best mean over replicates of one setting, with a t prediction interval."""
    keys = frame[varying] if varying else pd.DataFrame({"_": np.zeros(len(frame))})
    groups = pd.Series(values).groupby([keys[c].to_numpy() for c in keys.columns], sort=False)
    means = groups.mean()
    sign = 1.0 if maximize else -1.0
    order = {k: i for i, k in enumerate(means.index)}
    key = max(means.index, key=lambda k: (sign * means[k], -order[k]))
    key_t = key if isinstance(key, tuple) else (key,)
    m = int(groups.size()[key])
    pe_ss, pe_df = pure_error(keys, values)
    # Replicates that agree exactly (a deterministic estimator) say nothing about the spread
    # of a new run: the next source is used, never a zero-width interval.
    if pure_error_estimable(pe_ss, pe_df, values):
        s, df, spread, source = (
            math.sqrt(pe_ss / pe_df),
            pe_df,
            "the replicates' spread",
            "replicates",
        )
    elif fit is not None and int(fit.df_resid) > 0 and float(fit.ssr) > 0:
        s, df, spread = math.sqrt(float(fit.ssr) / fit.df_resid), int(fit.df_resid), "the residual"
        source = "residual"
    elif len(values) > 1 and float(np.std(values)) > 0:
        s, df, spread = float(np.std(values, ddof=1)), len(values) - 1, "the spread of all runs"
        source = "all runs"
    else:
        s, df, spread, source = math.nan, 0, "nothing (no spread)", ""
    if pe_df > 0 and spread != "the replicates' spread":
        spread += " (replicated runs scored exactly the same: pure error is not estimable)"
    predicted = float(means[key])
    se = s * math.sqrt(1 + 1 / m) if df else math.nan
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se if df else math.nan
    settings = dict(fixed)
    coded: dict[str, float] = {}
    if varying:
        for name, code in zip(keys.columns, key_t, strict=True):
            f = space.factor(name)
            settings[name] = (
                f.decode(code, clip=False) if isinstance(f, IntegerFactor) else f.decode(code)
            )
            coded[name] = float(code)
    ordered = {f.name: settings[f.name] for f in space.factors}
    runs = f"the mean of {m} runs" if m > 1 else "one run"
    reason = (
        f"The best run ({where({n: ordered[n] for n in varying}) or 'the only setting'}, "
        f"{runs}) is recommended because {why}; its interval comes from {spread}."
    ) + _region_clause(coded, space, observed=True)
    return Recommendation(
        settings=ordered,
        predicted=predicted,
        interval=(predicted - half, predicted + half),
        source="best run",
        reason=reason,
        held={n: held[n] for n in ordered if n in held},
        coded=coded,
        maximize=maximize,
        level=1 - alpha,
        runs=m,
        se=se,
        df=float(df),
        settings_compared=len(means),
        spread=source,
    )


def confirmation_verdict(
    recommendation: Recommendation, observed_scores: Sequence[float], of: str = ""
) -> tuple[int, int, str]:
    """How many confirmation runs fall inside the recommendation's prediction interval.

    Returns (inside, n, one sentence). `of` names what the interval is for ("a test-split
    score"), said after "prediction interval". Each run of a correct interval falls
    inside with probability `level`, so one miss in three or more runs whose
    mean is inside is still a confirmation; a mean outside is not.
    """
    scores = [float(s) for s in observed_scores if math.isfinite(float(s))]
    n = len(scores)
    low, high = recommendation.interval
    pct = f"{100 * recommendation.level:.0f}%"
    if n == 0:
        return 0, 0, "No confirmation run finished, so nothing is confirmed."
    if not (math.isfinite(low) and math.isfinite(high)):
        return (
            0,
            n,
            (
                f"{n} confirmation runs scored {np.mean(scores):.4g} on average; the "
                "recommendation has no interval (a single run, no spread) to check them against."
            ),
        )
    inside = sum(low <= s <= high for s in scores)
    mean = float(np.mean(scores))
    head = (
        f"{inside} of {n} confirmation runs fall inside the {pct} prediction interval"
        f"{' for ' + of if of else ''} [{low:.4g}, {high:.4g}] "
        f"(predicted {recommendation.predicted:.4g}, observed mean {mean:.4g})"
    )
    mean_inside = low <= mean <= high
    if inside == n or (n >= 3 and inside == n - 1 and mean_inside):
        return inside, n, f"{head}: confirmed."
    better = (
        mean > recommendation.predicted
        if recommendation.maximize
        else (mean < recommendation.predicted)
    )
    way = (
        "better than predicted"
        if better
        else "worse than predicted: the prediction was over-optimistic"
    )
    return inside, n, f"{head}: not confirmed, the runs score {way}."


__all__ = ["Recommendation", "confirmation_verdict", "recommend"]
