"""Choosing a study's next stage from an analysis: active factors, steepest ascent, hints.

After a screen (Montgomery, *Design and Analysis of Experiments*, 9th ed.):
a resolution III fraction is folded over (section 8.6); a first-order fit
with no curvature moves along the path of steepest ascent (section 11.2);
active factors with interactions or curvature get a second-order design
(section 11.4). These functions read a `DoeAnalysis` and say which.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from libs.doe.names import Namer
from libs.doe.space import ContinuousFactor, FactorSpace, IntegerFactor
from libs.errors import InputError


def active_factors(
    result: Any, max_factors: int = 3, exclude: Collection[str] = ()
) -> tuple[list[str], str]:
    """The factors a screening analysis found active, for the next stage's surface.

    Active: a main effect beyond Lenth's margin of error (or p < 0.05 in the
    ANOVA), and the factors of an active two-factor interaction. Fewer than two
    are filled up with the largest main effects; more than `max_factors` are
    cut to the largest; factors in `exclude` (categorical ones, which have no
    axial levels) are never chosen. Returns the factors and how they were chosen.
    """
    effects = result.effects
    names = [n for n in result.factors if n not in exclude]
    if effects.empty:
        raise InputError("the analysis estimated no effects to choose active factors from")
    size = {str(r["name"]): abs(float(r["effect"])) for _, r in effects.iterrows()}
    if result.lenth is not None:
        flagged = {
            str(n)
            for t, n in zip(effects["term"], effects["name"], strict=True)
            if t in result.lenth.active
        }
    elif "p" in effects:
        flagged = {str(r["name"]) for _, r in effects.iterrows() if r["p"] < 0.05}
    else:
        flagged = set()
    active: dict[str, float] = {}
    for label in flagged:
        for part in label.split(":"):
            if part in names:
                active[part] = max(active.get(part, 0.0), size.get(part, 0.0))
    how = "significant"
    mains = sorted((n for n in names if n in size), key=lambda n: -size[n])
    if len(active) < 2:
        how = (
            "significant, filled up with the largest main effects"
            if active
            else ("the largest main effects (none significant)")
        )
        for n in mains:
            if len(active) >= 2:
                break
            active.setdefault(n, size[n])
    chosen = sorted(active, key=lambda n: -active[n])[:max_factors]
    if len(active) > max_factors:
        how += f", the {max_factors} largest kept"
    return [n for n in names if n in chosen], how


def next_centre(result: Any, space: FactorSpace, step: int = 2) -> tuple[dict[str, float], str]:
    """The centre (coded) of the next first-order design along the path of steepest ascent.

    Step 2 of the path (the leading factor two coded units out) is the nearest
    region of the same size that does not overlap the current one (Montgomery,
    section 11.2). Refuses when a fitted surface or curvature says the
    optimum is not beyond the region.
    """
    if result.steepest is None:
        raise InputError(
            "the analysis proposes no path of steepest ascent (no significant main effect, "
            "a second-order surface, categorical factors, or too few effects: see its notes); "
            "replicate or widen the ranges when the effects are noise, else augment to a CCD"
        )
    table = result.anova.table if result.anova is not None else None
    if table is not None and "curvature" in table.index and table.loc["curvature", "PR(>F)"] < 0.05:
        raise InputError(
            f"the centre points show curvature (p = {table.loc['curvature', 'PR(>F)']:.3g}): "
            "the optimum is near, not beyond, the region; augment to a CCD instead"
        )
    path = result.steepest
    row = path.iloc[min(step, len(path) - 1)]
    coded = {n: float(row[f"{n} (coded)"]) for n in result.factors}
    way = "ascent" if result.maximize else "descent"
    return coded, f"step {int(row['step'])} of the path of steepest {way}"


def recentred_factors(space: FactorSpace, centre: Mapping[str, float]) -> list[dict[str, Any]]:
    """The factors of the next design: the same half-width, centred on `centre` (coded).

    A log factor keeps its width in decades; an integer factor is rounded and
    keeps at least two levels. Factors not in `centre` are kept as they are.
    """
    out = []
    for f in space.factors:
        data = f.model_dump(mode="json")
        if f.name in centre:
            c = float(centre[f.name])
            if isinstance(f, IntegerFactor):
                lo, hi = f.decode(c - 1, clip=False), f.decode(c + 1, clip=False)
                data |= {"low": lo, "high": max(hi, lo + 1)}
            elif isinstance(f, ContinuousFactor):
                data |= {
                    "low": float(f"{f.decode(c - 1):.6g}"),
                    "high": float(f"{f.decode(c + 1):.6g}"),
                }
        out.append(data)
    return out


def _active_interactions(result: Any) -> list[str]:
    """Two-factor interactions flagged active (Lenth) or p < 0.05 (ANOVA)."""
    effects = result.effects
    if effects.empty:
        return []
    inter = effects[effects["name"].str.contains(":", regex=False)]
    if result.lenth is not None:
        return [
            str(n)
            for t, n in zip(inter["term"], inter["name"], strict=True)
            if t in result.lenth.active
        ]
    if "p" in inter:
        return [str(n) for n, p in zip(inter["name"], inter["p"], strict=True) if p < 0.05]
    return []


def _aliased_example(result: Any) -> str:
    """`, e.g. learning_rate from n_estimators x min_samples_leaf` (the first main effect's
    chain with a two-factor interaction), or ""."""
    aliases = getattr(result, "aliases", None)
    if aliases is None or aliases.empty or "chain (names)" not in aliases:
        return ""
    said = Namer.of(result.factors)
    for _, row in aliases.iterrows():
        members = [m.lstrip("-") for m in str(row["chain (names)"]).split(" = ")]
        pairs = [m for m in members[1:] if m.count(":") == 1]
        if members and ":" not in members[0] and pairs:
            return f", e.g. {said.term(members[0])} from {said.term(pairs[0])}"
    return ""


def next_step_hint(design: Any, result: Any, sweep_id: str) -> str:
    """What the study should do next, as a command, with its cost in runs and what it
    answers (empty when nothing follows)."""
    if result is None:
        return ""
    ref = sweep_id[:12]
    runs = len(getattr(design, "coded", ())) or getattr(result, "runs", 0)
    two_level = design.kind in ("fractional_factorial", "plackett_burman", "full_factorial")
    if two_level and design.regular is not False and design.resolution == 3:
        return (
            f"python -m flows.sweep --fold-over {ref} ({runs} more runs, the earlier ones reused;"
            " resolution III: main effects are aliased with two-factor interactions, and the "
            f"fold-over separates them{_aliased_example(result)})"
        )
    if result.steepest is not None and not _active_interactions(result):
        try:
            centre, how = next_centre(result, None)  # type: ignore[arg-type]
        except InputError:
            pass
        else:
            where = ", ".join(f"{k}={v:+.2g}" for k, v in centre.items())
            return (
                f"python -m flows.sweep --next {ref} (centre at coded {where}, {how}; a design "
                f"of {runs} runs there answers whether the response keeps improving)"
            )
    if design.kind in (*("fractional_factorial", "plackett_burman", "full_factorial"), "fold_over"):
        try:
            active, _ = active_factors(result)
        except InputError:
            active = []
        cost = f"about {2 * len(active) + 2} more runs, " if active else ""
        names = Namer.of(result.factors)
        inner = f" in {', '.join(names.name(a) for a in active)}" if active else ""
        return (
            f"python -m flows.sweep --augment {ref} --to ccd ({cost}axial and centre points"
            f"{inner}: fit a second-order surface, which says where the best setting is)"
        )
    return ""


__all__ = ["active_factors", "next_centre", "next_step_hint", "recentred_factors"]
