"""`analyse`: the statistics of a designed experiment from its coded matrix and responses.

Works from the coded runs, the factor types and the responses alone, so it
is right for any design (merged fold-overs and augmented designs included):

- two-level designs (every run at +-1, or a centre point): one effect per
  alias chain; ANOVA when replicates give residual df (with the single-df
  curvature test when there are centre points), else Lenth's method;
  non-regular designs (Plackett-Burman) estimate main effects only and report
  their partial aliasing;
- any other design (3-level, CCD, Box-Behnken, Latin hypercube, categorical
  factors with 3+ levels): a full-rank second-order model, its ANOVA with
  pure error and lack of fit, and the canonical analysis of the surface.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import libs.doe.notes as words
from libs.doe.analysis import Response, check_inputs
from libs.doe.anova import AnovaResult, Term, anova, model_matrix, reduce_terms
from libs.doe.canonical import Canonical, Region, canonical, steepest_path
from libs.doe.lenth import MIN_EFFECTS, Lenth, lenth
from libs.doe.models import general_terms, sum_coded, two_level, two_level_terms
from libs.doe.names import Namer, beyond, region_words
from libs.doe.result import DoeAnalysis, alias_table
from libs.doe.space import CategoricalFactor, FactorSpace
from libs.errors import InputError


def _effects_frame(
    terms: Sequence[Term], coefs: np.ndarray, chains: dict[str, str]
) -> pd.DataFrame:
    rows, i = [], 1
    for t in terms:
        if t.df == 1 and t.kind not in ("curvature", "block"):
            rows.append(
                {
                    "term": t.name,
                    "name": t.label,
                    "chain": chains.get(t.name, t.name),
                    # the change from -1 to +1; a squared term has no such effect
                    "effect": np.nan if t.kind == "quadratic" else 2 * float(coefs[i]),
                    "coef": float(coefs[i]),
                }
            )
        i += t.df
    return pd.DataFrame(rows, columns=["term", "name", "chain", "effect", "coef"])


def _with_p(effects: pd.DataFrame, fit: AnovaResult | None, lt: Lenth | None) -> pd.DataFrame:
    out = effects.copy()
    if fit is not None:
        out["p"] = [fit.table.loc[t, "PR(>F)"] for t in out["term"]]
    elif lt is not None:
        out["t (Lenth)"] = out["effect"] / lt.pse
        out["active"] = [t in lt.active for t in out["term"]]
    return out


def _categorical(
    names: list[str], space: FactorSpace | None, given: Collection[str] | None
) -> set[str]:
    cats = set(given or ())
    if space is not None:
        cats |= {
            n for n in names if n in space.names and isinstance(space.factor(n), CategoricalFactor)
        }
    return cats


def _natural(
    space: FactorSpace | None, names: list[str], point: np.ndarray
) -> dict[str, Any] | None:
    if space is None or any(n not in space.names for n in names):
        return None
    return {n: space.factor(n).decode(float(v)) for n, v in zip(names, point, strict=True)}


def _path(
    b: np.ndarray,
    names: list[str],
    space: FactorSpace | None,
    maximize: bool,
    kept: Sequence[Term],
    values: np.ndarray,
) -> pd.DataFrame:
    """The path's steps with the first-order model's prediction at each.

    The prediction comes from a fit of the main effects (and blocks) alone, with
    no curvature or interaction term: its intercept is the mean of all runs (40.44
    in Montgomery's Example 11.1), not the centre points' mean (40.46).
    """
    coded = steepest_path(b, maximize)
    frame = pd.DataFrame(coded, columns=[f"{n} (coded)" for n in names])
    frame.insert(0, "step", range(len(frame)))
    for j, name in enumerate(names):
        if space is not None and name in space.names:
            frame[name] = [space.factor(name).decode(float(v)) for v in coded[:, j]]
    first = [t for t in kept if t.label in names or t.kind == "block"]
    beta = np.linalg.lstsq(model_matrix(first, len(values)), values, rcond=None)[0]
    slope, i = {}, 1
    for t in first:
        if t.label in names:
            slope[t.label] = float(beta[i])
        i += t.df
    frame["predicted"] = float(beta[0]) + coded @ np.array([slope[n] for n in names])
    # a step beyond the factor ranges is an extrapolation: say so, with the distance
    said = Namer.of(names, space)
    steps = [dict(zip(names, row, strict=True)) for row in coded]
    frame["beyond (coded)"] = [beyond(s) for s in steps]
    frame["region"] = [region_words(s, said) or "inside" for s in steps]
    return frame


def _surface(
    terms: Sequence[Term], coefs: np.ndarray, names: list[str]
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """(b0, b, B) when every linear, square and two-factor term of `names` was fitted."""
    k = len(names)
    index, i = {}, 1
    for t in terms:
        index[t.label] = i
        i += t.df
    wanted = [*names, *(f"{n}^2" for n in names)]
    wanted += [f"{a}:{b}" for j, a in enumerate(names) for b in names[j + 1 :]]
    if any(w not in index for w in wanted):
        return None
    b = np.array([coefs[index[n]] for n in names])
    B = np.diag([coefs[index[f"{n}^2"]] for n in names])
    for j in range(k):
        for m in range(j + 1, k):
            B[j, m] = B[m, j] = coefs[index[f"{names[j]}:{names[m]}"]] / 2
    return float(coefs[0]), b, B


def analyse(
    coded: pd.DataFrame,
    y: Response,
    space: FactorSpace | None = None,
    *,
    categorical: Collection[str] | None = None,
    maximize: bool = True,
    order: int | None = None,
    block: Sequence[int] | None = None,
) -> DoeAnalysis:
    """The analysis of coded runs (one column per factor) and their responses.

    `space` (or `categorical`, a set of factor names) says which factors are
    categorical and decodes points to natural units. `order` limits a model
    to interactions of that order (default: every estimable chain for a
    two-level design, a second-order model otherwise). `block` (one stage
    number per run: a fold-over or an augmentation) adds a block term, so a
    shift between stages is not read as an effect; an effect confounded with
    the blocks is dropped with a note.
    """
    frame, values = check_inputs(coded, y)
    if order is not None and order < 1:
        raise InputError(f"order: must be at least 1, got {order}")
    names = list(frame.columns)
    cats = _categorical(names, space, categorical)
    x = frame.to_numpy(dtype=float)
    n = len(values)
    notes: list[str] = []
    design = two_level(x, names)
    if design is not None:
        terms = two_level_terms(x, names, design, order)
        # A regular design's chains are orthogonal by construction: no rank search needed.
        kept, dropped = (
            (terms, []) if design.alias.regular else reduce_terms(terms, n, keep_residual=False)
        )
        notes += words.alias_notes(design.alias, order, names)
        kind = "two-level" if design.alias.regular else "two-level, non-regular"
        groups: dict[str, list[str]] = {}
    else:
        terms, groups = general_terms(frame, cats, order)
        kept, dropped = reduce_terms(terms, n, keep_residual=True)
        kind = "general"
    if block is not None and len(set(block)) > 1:
        if len(block) != n:
            raise InputError(f"block: {len(block)} values for {n} runs")
        stage = Term("Block", "block", "block", sum_coded(pd.Series(block, dtype=float)))
        kept, confounded = reduce_terms([stage, *kept], n, keep_residual=design is None)
        dropped = [
            *dropped,
            *((t, "confounded with blocks" if why == "aliased" else why) for t, why in confounded),
        ]
        notes.append(f"{len(set(block))} blocks (stages): a block term is in the model")
    notes += words.dropped_notes(dropped)
    if not kept:
        notes.append("no estimable term leaves a residual degree of freedom: nothing to test")
        said = Namer.of(names, space)
        return DoeAnalysis(
            kind, names, n, alias_table(design, names), notes=tuple(said.text(x) for x in notes)
        )
    mm = model_matrix(kept, n)
    coefs = np.linalg.lstsq(mm, values, rcond=None)[0]
    residual_df = n - int(np.linalg.matrix_rank(mm))
    chains = {}
    if design is not None:
        chains = {str(r["term"]): str(r["chain"]) for _, r in alias_table(design, names).iterrows()}
    effects = _effects_frame(kept, coefs, chains)
    fit: AnovaResult | None = None
    lt: Lenth | None = None
    method = "none"
    if residual_df >= 1:
        fit = anova(kept, values, frame, groups)
        method = "anova"
        notes += words.anova_notes(fit, bool(design is not None and design.centre.any()))
    elif design is not None:
        series = effects.set_index("term")["effect"]
        lt = lenth(series)
        method = "lenth" if lt is not None else "none"
        labels = {t.name: t.label for t in kept}
        notes += words.lenth_notes(lt, len(series), design.centre.sum(), labels)
    effects = _with_p(effects, fit, lt)
    regular = design is not None and design.alias.regular
    canon, path, natural = _surface_analysis(
        kept, coefs, names, cats, x, values, space, maximize, notes, fit, lt
    )
    said = Namer.of(names, space)  # notes in short names, values without float noise
    return DoeAnalysis(
        kind=kind,
        factors=names,
        runs=n,
        aliases=alias_table(design, names),
        partial_aliasing=design.alias.partial if design is not None else None,
        defining_relation=design.alias.defining_relation() if design and regular else "",
        resolution=design.alias.resolution if design and regular else None,
        centre_points=int(np.all(np.isclose(x, 0.0), axis=1).sum()),
        effects=effects,
        method=method,
        anova=fit,
        lenth=lt,
        canonical=canon,
        natural=natural,
        steepest=path,
        dropped=tuple((t.name, t.label, why) for t, why in dropped),
        maximize=maximize,
        notes=tuple(said.text(n) for n in notes),
        _surface=_surface(kept, coefs, [n_ for n_ in names if n_ not in cats]) if canon else None,
    )


def _active_interactions(
    kept: Sequence[Term], fit: AnovaResult | None, lt: Lenth | None
) -> list[str]:
    inter = [t.name for t in kept if ":" in t.label]
    if lt is not None:
        return [t for t in inter if t in lt.active]
    if fit is not None:
        p = fit.table["PR(>F)"]
        return [t for t in inter if t in p.index and p[t] < 0.05]
    return []


def _surface_analysis(
    kept: Sequence[Term],
    coefs: np.ndarray,
    names: list[str],
    cats: set[str],
    x: np.ndarray,
    values: np.ndarray,
    space: FactorSpace | None,
    maximize: bool,
    notes: list[str],
    fit: AnovaResult | None,
    lt: Lenth | None,
) -> tuple[Canonical | None, pd.DataFrame | None, dict[str, dict[str, Any] | None]]:
    numeric = [n for n in names if n not in cats]
    if numeric != names:
        return None, None, {}
    quad = _surface(kept, coefs, names)
    if quad is not None:
        b0, b, B = quad
        canon = canonical(b0, b, B, Region.of(x), x, maximize)
        if words.lack_of_fit_significant(fit):  # never claim an optimum the data reject
            canon = replace(canon, is_optimum=False)
        natural = {
            "stationary": _natural(space, names, canon.stationary)
            if canon.stationary is not None
            else None,
            "best": _natural(space, names, canon.best),
        }
        notes += words.canonical_notes(canon, names, natural, maximize, fit)
        notes += words.curvature_strength(fit)
        return canon, None, natural
    linear = {t.label: i for i, t in enumerate(kept, 1) if t.df == 1}
    if all(n in linear for n in names) and all(t.kind not in ("quadratic",) for t in kept):
        noise = _first_order_noise(kept, values, names, fit, lt)
        if noise:
            notes.append(f"no path of steepest ascent: {noise}")
            return None, None, {}
        b = np.array([coefs[linear[n]] for n in names])
        path = _path(b, names, space, maximize, kept, values)
        out = path[path["beyond (coded)"] > 1e-9]
        if not out.empty:
            notes.append(
                f"the path leaves the factor ranges at step {int(out['step'].iloc[0])} "
                f"({float(out['beyond (coded)'].iloc[0]):.2g} coded units beyond; "
                f"{float(out['beyond (coded)'].iloc[-1]):.2g} at step {int(out['step'].iloc[-1])}):"
                " predictions there are extrapolations"
            )
        labels = {t.name: t.label for t in kept}
        active = [labels.get(t, t) for t in _active_interactions(kept, fit, lt)]
        notes.append(words.path_note(maximize, names, b, active))
        return None, path, {}
    return None, None, {}


def _first_order_noise(
    kept: Sequence[Term],
    values: np.ndarray,
    names: list[str],
    fit: AnovaResult | None,
    lt: Lenth | None,
) -> str:
    """Why the main effects give no direction ("" when they do): Lenth finds no active main
    effect, or their joint F test is not significant (Montgomery, 9th ed., section 11.2:
    a path is followed only from a significant first-order model)."""
    mains = [t for t in kept if t.label in names]
    if lt is not None:
        if any(t.name in lt.active for t in mains):
            return ""
        return "Lenth's method finds no active main effect (the effects look like noise)"
    if fit is not None and fit.exact_fit:
        return ""
    if fit is None:
        # Lenth's method gave no answer: with enough effects only because the small ones
        # are zero to rounding (a noise-free response: the effects are exact).
        if len(kept) >= MIN_EFFECTS:
            return ""
        return (
            f"its significance cannot be tested (no residual df and fewer than {MIN_EFFECTS} "
            "effects for Lenth's method); replicate runs or add centre points"
        )
    n = len(values)
    full = model_matrix(kept, n)
    rest = [t for t in kept if t.label not in names]
    rss_full = float(np.sum((values - full @ np.linalg.lstsq(full, values, rcond=None)[0]) ** 2))
    reduced = model_matrix(rest, n)
    rss_red = float(
        np.sum((values - reduced @ np.linalg.lstsq(reduced, values, rcond=None)[0]) ** 2)
    )
    df_num, df_res = len(mains), fit.residual_df
    f = (rss_red - rss_full) / df_num / (rss_full / df_res)
    p = float(stats.f.sf(f, df_num, df_res))
    if p < words.ALPHA:
        return ""
    return (
        f"the main effects are not significant together (F test p={p:.3g}), "
        "so their direction is noise"
    )


__all__ = ["analyse"]
