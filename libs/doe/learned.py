"""What a stage learned, in a few plain sentences written from its analysis result.

An ML engineer reads these first (the report's top, the terminal summary):
which settings matter and which way, by how much in the response's units
and how sure we are; which settings interact and what that means; what the
design could not separate; how this stage changed the previous stage's
conclusions. Statistical terms (alias chains, Lenth, lack of fit) stay in the
notes and tables below. Nothing here is written for one example: every
sentence comes from the effects, p-values, aliases and surface of the result.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from libs.doe.names import Namer
from libs.doe.result import DoeAnalysis
from libs.doe.space import CategoricalFactor, FactorSpace

ALPHA = 0.05
EXACT = 1e-9  # an exact fit's effects below this (relative to the largest) are rounding
MOST = 3  # settings named one by one; the rest are counted


def _sure(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "beyond the noise (Lenth's margin)"
    if p < 0.001:
        return "clear (p<0.001)"
    if p < 0.01:
        return f"clear (p={p:.2g})"
    return f"likely real (p={p:.2g})"


def _noise_free(result: DoeAnalysis) -> bool:
    """The model fits the runs exactly (zero residual, replicates identical): F tests are
    undefined and the effects are exact, as the path of steepest ascent takes them."""
    return result.lenth is None and result.anova is not None and result.anova.exact_fit


def _half_width(result: DoeAnalysis, term: str) -> float | None:
    """The 95% half-width of one effect (ANOVA: t * 2 SE; Lenth: its margin of error)."""
    if result.lenth is not None:
        return float(result.lenth.me)
    if _noise_free(result):
        return None
    fit = result.anova
    if fit is None or fit.residual_df < 1 or term not in fit.coefficients.index:
        return None
    se = float(fit.coefficients.loc[term, "std err"])
    return float(stats.t.ppf(0.975, fit.residual_df)) * 2 * se if math.isfinite(se) else None


def significant(result: DoeAnalysis) -> pd.DataFrame:
    """The effects with a claim: ANOVA p below 0.05 or beyond Lenth's margin, largest first."""
    e = result.effects
    if e.empty:
        return e
    if _noise_free(result):  # exact effects: every one beyond rounding is a claim
        size = pd.to_numeric(e["effect"], errors="coerce").abs()
        keep = e[size > EXACT * max(1.0, float(size.max()))]
    elif "p" in e:
        keep = e[e["p"] < ALPHA]
    elif "active" in e:
        keep = e[e["active"].astype(bool)]
    else:
        return e.iloc[0:0]
    keep = keep[keep["effect"].notna()]
    return keep.reindex(keep["effect"].abs().sort_values(ascending=False).index)


def _range(said: Namer, key: str) -> str:
    factor = said.factors.get(key)
    if factor is None:
        return f"raising {said.name(key)} from its low to its high level"
    if isinstance(factor, CategoricalFactor):
        return f"{said.name(key)} {factor.levels[-1]} instead of {factor.levels[0]}"
    low, high = said.value(key, factor.low), said.value(key, factor.high)
    return f"raising {said.name(key)} from {low} to {high}"


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "-") + _num(abs(x))


def _num(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 0.01 else f"{x:.3g}"


def _main_sentences(result: DoeAnalysis, said: Namer, metric: str, sig: pd.DataFrame) -> list[str]:
    mains = sig[sig["name"].isin(result.factors)]
    out = []
    for _, r in mains.head(MOST).iterrows():
        key, effect = str(r["name"]), float(r["effect"])
        way = "raises" if effect > 0 else "lowers"
        half = _half_width(result, str(r["term"]))
        band = (
            f" (95% interval {_num(abs(effect) - half)} to {_num(abs(effect) + half)})"
            if half is not None
            else ""
        )
        p = float(r["p"]) if "p" in r and pd.notna(r.get("p")) else None
        sure = (
            "exact (these runs show no noise to test it against)"
            if _noise_free(result)
            else _sure(p)
        )
        out.append(f"{_range(said, key)} {way} {metric} by {_num(abs(effect))}{band}: {sure}.")
    if len(mains) > MOST:
        out.append(f"{len(mains) - MOST} more settings matter less (see the effects table).")
    quiet = [said.name(n) for n in result.factors if n not in set(mains["name"])]
    if quiet and out:
        out.append(f"No clear difference from {_list(quiet)} within these ranges.")
    return out


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _interaction_sentences(
    result: DoeAnalysis, said: Namer, metric: str, sig: pd.DataFrame
) -> list[str]:
    effects = result.effect_series()
    out = []
    pairs = sig[sig["name"].str.count(":").eq(1)]
    for _, r in pairs.head(2).iterrows():
        a, b = str(r["name"]).split(":")
        both = float(r["effect"])
        # the effect of b at a's low and high level: E_b -/+ E_ab
        main_b = float(effects.get(b, 0.0))
        low_a, high_a = main_b - both, main_b + both
        fa = said.factors.get(a)
        lo = f" ({said.value(a, fa.low)})" if fa is not None and hasattr(fa, "low") else ""
        hi = f" ({said.value(a, fa.high)})" if fa is not None and hasattr(fa, "high") else ""
        out.append(
            f"Interaction: {said.name(a)} and {said.name(b)} act together; raising "
            f"{said.name(b)} changes "
            f"{metric} by {_signed(low_a)} when {said.name(a)} is low{lo} and by {_signed(high_a)} "
            "when "
            f"it is high{hi}, so the best {said.name(b)} depends on {said.name(a)}."
        )
    return out


def _largest(result: DoeAnalysis, said: Namer) -> str:
    """` The largest, x (-0.069), is within the noise margin (0.222) of these runs; more
    runs (a fold-over or replicates) would tell.` when a margin exists, else ""."""
    effects = result.effect_series()
    if effects.empty:
        return ""
    top = str(effects.abs().idxmax())
    term = str(result.effects.loc[result.effects["name"] == top, "term"].iloc[0])
    half = _half_width(result, term)
    if half is None:
        return ""
    return (
        f" The largest, {said.term(top)} ({_num(float(effects[top]))}), is within the noise "
        f"margin ({_num(half)}) of these runs; more runs (a fold-over or replicates) would tell."
    )


def _aliased_sentences(result: DoeAnalysis, said: Namer, sig: pd.DataFrame) -> list[str]:
    if result.aliases.empty or sig.empty or "chain (names)" not in result.aliases:
        return []
    chains = result.aliases.set_index("name")["chain (names)"]
    out = []
    for name in sig["name"]:
        if name not in chains.index:
            continue
        members = [m.lstrip("-") for m in str(chains[name]).split(" = ")]
        others = [m for m in members[1:] if m.count(":") <= 1]
        if others:
            out.append(
                f"Not separated: {said.term(str(name))} could not be told apart from "
                f"{_list([said.term(m) for m in others])}: this design gives one number for "
                "them together (a fold-over separates them)."
            )
    return out[:2]


def _surface_sentence(result: DoeAnalysis, said: Namer, metric: str) -> list[str]:
    c = result.canonical
    if c is None:
        return []
    best = result.natural.get("best") or {}
    at = said.point(best) if best else "the best fitted point"
    if not result.optimum_claimed:
        return [
            "The fitted surface misses structure (lack of fit), so it claims no best setting; "
            "the best run is the safer pick."
        ]
    if c.is_optimum:
        return [f"{metric} peaks inside the region, predicted {c.best_response:.3g} at {at}."]
    return [
        f"There is no peak inside the region (a {c.nature}); the best predicted setting is "
        f"{at} ({metric} {c.best_response:.3g}), at the edge: the optimum may lie beyond it."
    ]


def _changed(result: DoeAnalysis, previous: DoeAnalysis, said: Namer) -> list[str]:
    now = set(significant(result)["name"])
    before = set(significant(previous)["name"])
    gone, new = sorted(before - now), sorted(now - before)
    if not gone and not new:
        if now:
            return ["This stage confirms the previous stage's conclusions."]
        return []
    chains = (
        previous.aliases.set_index("name")["chain (names)"]
        if not previous.aliases.empty and "chain (names)" in previous.aliases
        else pd.Series(dtype=str)
    )

    def members(term: str) -> list[str]:
        return [m.lstrip("-") for m in str(chains[term]).split(" = ")] if term in chains else []

    effect_now = result.effect_series()
    effect_before = previous.effect_series()
    out, told = [], set()
    for g in gone:
        hidden = [n for n in new if n in members(g)]
        told |= set(hidden)
        if hidden:
            out.append(
                f"The previous stage credited {said.term(g)}; with this stage's runs the effect "
                f"belongs to {_list([said.term(h) for h in hidden])}, which the earlier design "
                "could not tell apart from it."
            )
        else:
            out.append(
                f"The previous stage credited {said.term(g)}; with this stage's runs its effect "
                "is no longer clear."
            )
    for n in new:  # split off a term that stays: its earlier estimate held both
        if n in told:
            continue
        held = [g for g in sorted(before & now) if n in members(g)]
        if held and held[0] in effect_before and held[0] in effect_now and n in effect_now:
            g = held[0]
            told.add(n)
            out.append(
                f"The previous stage's {_num(float(effect_before[g]))} for {said.term(g)} "
                f"included {said.term(n)}, aliased with it there; separated, {said.term(g)} "
                f"is {_num(float(effect_now[g]))} and {said.term(n)} "
                f"{_num(float(effect_now[n]))}."
            )
    rest = [n for n in new if n not in told]
    rest.sort(key=lambda n: -abs(float(effect_now.get(n, 0.0))))  # largest first
    if rest and not before:
        out.append(
            "The previous stage's runs showed nothing beyond the noise; with this stage's runs "
            f"{_list([said.term(n) for n in rest])} stand{'s' if len(rest) == 1 else ''} out."
        )
    elif rest:
        out.append(f"New with this stage: {_list([said.term(n) for n in rest])}.")
    return out


def learned(
    result: DoeAnalysis | None,
    metric: str,
    space: FactorSpace | None = None,
    previous: DoeAnalysis | None = None,
) -> list[str]:
    """A few plain sentences on what `result` shows (see the module's docstring)."""
    if result is None:
        return ["Nothing can be concluded yet: too few runs completed to analyse."]
    said = Namer.of(result.factors, space)
    if result.method == "none" and result.canonical is None:
        return [
            "Nothing can be claimed yet: the design leaves no way to tell effects from noise; "
            "repeat some runs or add centre points."
        ]
    sig = significant(result)
    out = _main_sentences(result, said, metric, sig)
    out += _interaction_sentences(result, said, metric, sig)
    if sig.empty:
        out.append(
            "No setting changed "
            f"{metric} clearly beyond the noise within these ranges: widen the ranges or "
            "choose on cost." + _largest(result, said)
        )
    out += _aliased_sentences(result, said, sig)
    out += _surface_sentence(result, said, metric)
    if previous is not None:
        out += _changed(result, previous, said)
    return [s[:1].upper() + s[1:] for s in out]


__all__ = ["learned", "significant"]
