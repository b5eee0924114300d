"""The notes of an analysis: short sentences a user can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from libs.doe.aliasing import AliasStructure, word
from libs.doe.anova import AnovaResult, Term
from libs.doe.canonical import Canonical
from libs.doe.lenth import MIN_EFFECTS, Lenth

ALPHA = 0.05
_MAX_CHAIN_NOTES = 3


def _member(m: tuple[int, ...], alias: AliasStructure, names: Sequence[str] | None) -> str:
    """An alias-chain member in factor names (`a:b`), or in letters without names."""
    if names is None:
        return word(m, alias.letters)
    return ":".join(names[i] for i in m) or "I"


def alias_notes(
    alias: AliasStructure, order: int | None, names: Sequence[str] | None = None
) -> list[str]:
    """Which low-order effects are aliased, and how to separate them, in factor names.

    A fraction's effects are *aliased* (one estimate per alias chain);
    "confounded" is kept for effects confounded with blocks (Montgomery, 9th
    ed., chapters 7 and 8), see `dropped_notes`.
    """
    if not alias.regular:
        return [
            "non-regular design: two-factor interactions are partially aliased with the main "
            "effects (see the partial aliasing table), so only main effects are estimated; "
            "a fold-over or a larger design is needed to study interactions"
        ]
    out = []
    aliased = [c for c in alias.chains if sum(len(m) <= 2 for m in c.members) > 1]
    for c in aliased[:_MAX_CHAIN_NOTES]:
        low = [_member(m, alias, names) for m in c.members if len(m) <= 2]
        first, others = low[0], " and ".join(low[1:])
        how = (
            "a full fold-over separates main effects from two-factor interactions"
            if c.order == 1
            else f"fold over on one factor (e.g. {_member(c.rep[:1], alias, names)}) to "
            "separate them"
        )
        out.append(
            f"{first} is aliased with {others}: the design cannot tell them apart (one "
            f"estimate for both); {how}"
        )
    if len(aliased) > _MAX_CHAIN_NOTES:
        out.append(
            f"... and {len(aliased) - _MAX_CHAIN_NOTES} more aliased chains (see the alias table)"
        )
    if order is not None:
        dropped = [
            f"{_member(m, alias, names)} (aliased with {_member(c.rep, alias, names)})"
            for c in alias.chains
            for m in c.members[1:]
            if len(m) <= order
        ]
        if dropped:
            out.append(
                "dropped from the requested model as aliased (one estimate per chain): "
                + ", ".join(dropped)
            )
    return out


def dropped_notes(dropped: Sequence[tuple[Term, str]]) -> list[str]:
    aliased = [t.label for t, why in dropped if why == "aliased"]
    blocks = [t.label for t, why in dropped if why == "confounded with blocks"]
    no_df = [t.label for t, why in dropped if why == "no residual df"]
    out = []
    if blocks:
        out.append(
            f"dropped (confounded with blocks: the stages' shift cannot be told apart from "
            f"them): {', '.join(blocks)}"
        )
    if aliased:
        out.append(
            f"dropped (inestimable: aliased with terms already in the model): {', '.join(aliased)}"
        )
    if no_df:
        out.append(
            f"dropped (would leave no residual degrees of freedom to test with): {', '.join(no_df)}"
        )
    return out


def anova_notes(fit: AnovaResult, centre: bool) -> list[str]:
    out = []
    table = fit.table
    if fit.exact_fit:
        out.append("the model fits exactly (zero residual): F tests are undefined")
        return out
    if fit.residual_df == fit.pure_error_df:
        out.append(f"significance from ANOVA against pure error ({fit.pure_error_df} df)")
    else:
        out.append(f"significance from ANOVA ({fit.residual_df} residual df)")
    if "curvature" in table.index:
        p = table.loc["curvature", "PR(>F)"]
        if p < ALPHA:
            out.append(
                f"curvature is significant (p={p:.3g}): a first-order model is not enough; "
                "augment with axial runs (a central composite design)"
            )
        elif not np.isnan(p):
            out.append(f"no significant curvature at the centre points (p={p:.3g})")
    elif centre:
        out.append("curvature cannot be tested: no residual df beside the centre point")
    if fit.lack_of_fit_p is not None:
        if fit.lack_of_fit_p < ALPHA:
            out.append(
                f"lack of fit is significant (p={fit.lack_of_fit_p:.3g}): the model misses "
                "structure, so no fitted optimum is claimed; augment the design (more levels "
                "or runs), transform the response, or narrow the region"
            )
        else:
            out.append(f"lack of fit not significant (p={fit.lack_of_fit_p:.3g})")
    elif fit.pure_error_df == 0:
        out.append("no replicated runs: no pure error, so lack of fit cannot be tested")
    return out


def lenth_notes(
    lt: Lenth | None, m: int, centre: int, labels: Mapping[str, str] | None = None
) -> list[str]:
    """Where significance comes from without residual df; `labels` names the terms
    (a term's letters -> its factor names, `AB` -> `a:b`)."""
    if lt is None and m >= MIN_EFFECTS:
        return [
            "no residual df and the small effects are all zero to rounding: the response has "
            "no noise, so the non-zero effects are exact and no test is needed"
        ]
    if lt is None:
        return [
            f"no residual df and too few effects for Lenth's method ({m} < {MIN_EFFECTS}): "
            "no significance can be claimed; replicate runs or add centre points"
        ]
    active = (
        ", ".join((labels or {}).get(t, t) for t in lt.active)
        or "none (Lenth's method assumes few active effects; read the half-normal plot)"
    )
    out = [
        f"no residual df: significance from Lenth's method on {lt.m} effects "
        f"(PSE={lt.pse:.4g}, ME={lt.me:.4g}, SME={lt.sme:.4g}); active beyond ME: {active}"
    ]
    if centre == 1:
        out.append("one centre point: curvature cannot be tested without replicated centre points")
    return out


def _at(names: Sequence[str], coded: np.ndarray, natural: dict[str, Any] | None) -> str:
    """A point in natural units, its coded value beside (`lr=0.1 (coded +0.50)`)."""
    parts = []
    for j, n in enumerate(names):
        if natural and n in natural:
            parts.append(f"{n}={natural[n]} (coded {coded[j]:+.2f})")
        else:
            parts.append(f"{n}={coded[j]:+.3f} (coded)")
    return ", ".join(parts)


def lack_of_fit_significant(fit: AnovaResult | None) -> bool:
    """Whether pure error shows the model misses structure (then no optimum is claimed)."""
    return bool(fit is not None and fit.lack_of_fit_p is not None and fit.lack_of_fit_p < ALPHA)


def canonical_notes(
    c: Canonical,
    names: Sequence[str],
    natural: dict[str, dict[str, Any] | None],
    maximize: bool,
    fit: AnovaResult | None = None,
) -> list[str]:
    best = _at(names, c.best, natural.get("best"))
    where = " on the boundary" if c.best_on_boundary else ""
    if lack_of_fit_significant(fit):
        assert fit is not None and fit.lack_of_fit_p is not None
        return [
            f"no fitted optimum is claimed: the surface shows significant lack of fit "
            f"(p={fit.lack_of_fit_p:.3g}), so its {c.nature} and best point ({best}) may be "
            "artefacts; augment the design, transform the response, or narrow the region, "
            "and take the best run meanwhile"
        ]
    if c.is_optimum:
        return [f"stationary point is a {c.nature} inside the region: fitted optimum at {best}"]
    out = []
    if c.nature == "saddle":
        out.append(
            "saddle point: no interior optimum; the best fitted point inside the region "
            f"is {best}{where}"
        )
    elif c.nature == "ridge" and c.ridge == "rising":
        way = "rising" if maximize else "falling"
        out.append(
            f"rising ridge: an eigenvalue is near zero and the stationary point lies far "
            f"outside the region, so the response keeps {way} along "
            f"{_direction(names, c.ridge_direction)}; the best fitted point inside the region "
            f"is {best}{where}; move along the ridge (a path or a new design beyond this edge)"
        )
    elif c.nature == "ridge":
        out.append(
            "stationary ridge: an eigenvalue is near zero and the stationary point lies inside "
            "the region, so many settings along "
            f"{_direction(names, c.ridge_direction)} give nearly the same response (choose "
            f"among them on cost); the best fitted point inside the region is {best}{where}"
        )
    elif c.stationary is not None and not c.stationary_inside:
        out.append(
            f"the stationary point (a {c.nature}) lies outside the experimental region; "
            f"the best fitted point inside the region is {best}{where}; explore beyond it"
        )
    else:
        sought = "maximum" if maximize else "minimum"
        out.append(
            f"the stationary point is a {c.nature}, not a {sought}; the best fitted point "
            f"inside the region is {best}{where}"
        )
    return out


def _direction(names: Sequence[str], vector: np.ndarray | None) -> str:
    """A direction in coded units, in factor names: 'time +0.71, temp +0.71'."""
    if vector is None:
        return "one direction"
    v = vector if vector[int(np.argmax(np.abs(vector)))] > 0 else -vector
    return "(" + ", ".join(f"{n} {x:+.2f}" for n, x in zip(names, v, strict=True)) + ")"


def curvature_strength(fit: AnovaResult | None) -> list[str]:
    """A caveat when the squared terms, which place the stationary point, are not significant."""
    if fit is None or fit.groups is None or "Quadratic" not in fit.groups.index:
        return []
    p = fit.groups.loc["Quadratic", "PR(>F)"]
    if np.isnan(p) or p < ALPHA:
        return []
    return [
        f"the quadratic terms are not significant together (p={p:.3g}): the curvature, and so "
        "the stationary point, is poorly determined; treat it as a direction, not a setting"
    ]


def path_note(maximize: bool, names: Sequence[str], b: np.ndarray, active: Sequence[str]) -> str:
    lead = names[int(np.argmax(np.abs(b)))]
    way = "ascent" if maximize else "descent"
    note = f"path of steepest {way} from the main effects moves {lead} one coded unit a step"
    if active:
        note += (
            f"; interactions {', '.join(active)} are active, so the path is only a rough guide "
            "(fit a second-order design near the best run instead)"
        )
    return note


__all__ = [
    "alias_notes",
    "anova_notes",
    "canonical_notes",
    "dropped_notes",
    "lack_of_fit_significant",
    "lenth_notes",
    "path_note",
]
