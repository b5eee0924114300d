"""`DoeAnalysis`: what a designed experiment says, as values, tables and printable text."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from libs.doe.aliasing import factor_letters, word
from libs.doe.anova import AnovaResult
from libs.doe.canonical import Canonical
from libs.doe.lenth import Lenth
from libs.doe.names import Namer

if TYPE_CHECKING:
    from libs.doe.models import TwoLevel

ALIAS_COLUMNS = ["term", "name", "chain", "chain (names)", "estimated"]


def alias_table(design: TwoLevel | None, names: list[str]) -> pd.DataFrame:
    """One row per alias chain of a two-level design (main-effect chains only if non-regular)."""
    if design is None:
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    alias = design.alias
    rows = []
    for c in alias.chains:
        if not alias.regular and c.order > 1:
            continue
        shown = [
            (m, s)
            for i, (m, s) in enumerate(zip(c.members, c.signs, strict=True))
            if i == 0 or len(m) <= 3
        ]
        rows.append(
            {
                "term": word(c.rep, alias.letters),
                "name": ":".join(names[i] for i in c.rep),
                "chain": c.label(alias.letters),
                "chain (names)": " = ".join(
                    ("-" if s < 0 else "") + ":".join(names[i] for i in m) for m, s in shown
                ),
                "estimated": True,
            }
        )
    return pd.DataFrame(rows, columns=ALIAS_COLUMNS)


def _metric_key(name: str, said: Namer) -> str:
    """A term's name as a tracker key in short names ('x^2' -> 'x_squared': '^' is not
    allowed; 'a:b' -> 'a_x_b')."""
    return said.metric_key(name)


def _num(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{float(value):.4g}"
    return str(value)


@dataclass(frozen=True)
class DoeAnalysis:
    """The analysis of one response over one design (see `libs.doe.study.analyse`).

    `effects` has one row per estimated term (for a two-level design, one per
    alias chain: `term` the lowest-order member, `chain` all of them up to
    order 3); `method` says where significance comes from: "anova", "lenth"
    or "none" (nothing can be claimed).
    """

    kind: str
    factors: list[str]
    runs: int
    aliases: pd.DataFrame
    partial_aliasing: pd.DataFrame | None = None
    defining_relation: str = ""
    resolution: int | None = None
    centre_points: int = 0
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "none"
    anova: AnovaResult | None = None
    lenth: Lenth | None = None
    canonical: Canonical | None = None
    natural: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    steepest: pd.DataFrame | None = None
    dropped: tuple[tuple[str, str, str], ...] = ()
    maximize: bool = True
    notes: tuple[str, ...] = ()
    _surface: tuple[float, np.ndarray, np.ndarray] | None = None

    @property
    def optimum_claimed(self) -> bool:
        """Whether a fitted best point may be reported: a surface without significant
        lack of fit (Montgomery, 9th ed., section 11.3: check the fit before optimising)."""
        if self.canonical is None:
            return False
        lof = self.anova.lack_of_fit_p if self.anova is not None else None
        return not (lof is not None and lof < 0.05)

    @property
    def letters(self) -> dict[str, str]:
        return factor_letters(self.factors)

    @property
    def said(self) -> Namer:
        """Short factor names (and the digits of values) for what a person reads."""
        return Namer.of(self.factors)

    @property
    def interactions_estimable(self) -> bool:
        """Whether any two-factor interaction was estimated (on its own or as a chain)."""
        if self.effects.empty:
            return False
        return bool(self.effects["name"].str.count(":").eq(1).any())

    def effect_series(self) -> pd.Series:
        """Estimated effects by long name (one per chain)."""
        if self.effects.empty:
            return pd.Series(dtype=float)
        s = pd.Series(self.effects["effect"].to_numpy(), index=self.effects["name"], dtype=float)
        return s.dropna()

    def top_effects(self, n: int = 5) -> list[tuple[str, float]]:
        s = self.effect_series()
        order = s.abs().sort_values(ascending=False).index[:n]
        return [(str(k), float(s[k])) for k in order]

    def standardized(self) -> tuple[pd.Series, float, str] | None:
        """Effects in t units with their cut-off and method, when significance exists."""
        if self.effects.empty:
            return None
        if self.lenth is not None:
            return (
                self.effect_series() / self.lenth.pse,
                self.lenth.me / self.lenth.pse,
                "Lenth PSE",
            )
        if self.anova is not None and "p" in self.effects:
            from scipy import stats

            coefs = self.anova.coefficients
            t = pd.Series(
                [coefs.loc[term, "t"] for term in self.effects["term"]],
                index=self.effects["name"],
                dtype=float,
            )
            if t.isna().all():
                return None
            return t, float(stats.t.ppf(0.975, self.anova.residual_df)), "t (ANOVA)"
        return None

    def predict(self, coded: pd.DataFrame) -> np.ndarray:
        """The fitted second-order surface at coded points (surfaces only)."""
        if self._surface is None:
            raise ValueError("no second-order surface was fitted")
        b0, b, B = self._surface
        x = coded[self.factors].to_numpy(dtype=float)
        return np.asarray(b0 + x @ b + np.einsum("ij,jk,ik->i", x, B, x), dtype=float)

    def canonical_table(self) -> pd.DataFrame | None:
        """Stationary point, best point inside the region, eigenvalues and eigenvectors."""
        c = self.canonical
        if c is None:
            return None
        rows = []
        if c.stationary is not None:
            nat = self.natural.get("stationary") or {}
            for j, name in enumerate(self.factors):
                rows.append(
                    {
                        "item": "stationary point",
                        "factor": name,
                        "coded": c.stationary[j],
                        "natural": nat.get(name, ""),
                    }
                )
        best = self.natural.get("best") or {}
        label = "optimum" if c.is_optimum else "best point inside region"
        if not self.optimum_claimed:
            label = "best fitted point (not claimed: lack of fit)"
        for j, name in enumerate(self.factors):
            rows.append(
                {"item": label, "factor": name, "coded": c.best[j], "natural": best.get(name, "")}
            )
        for j, value in enumerate(c.eigenvalues):
            vec = ", ".join(f"{v:+.3f}" for v in c.eigenvectors[:, j])
            rows.append(
                {"item": f"eigenvalue {j + 1}", "factor": f"({vec})", "coded": value, "natural": ""}
            )
        return pd.DataFrame(rows, columns=["item", "factor", "coded", "natural"])

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the analysis, by artifact name (empty ones left out)."""
        out: dict[str, pd.DataFrame] = {
            "factors": pd.DataFrame(
                {
                    "name": [self.said.name(f) for f in self.factors],
                    "config key": self.factors,
                    "letter": list(self.letters.values()),
                }
            ),
            "aliases": self.aliases,
            "effects": self.effects,
        }
        if self.partial_aliasing is not None:
            out["partial_aliasing"] = self.partial_aliasing
        if self.anova is not None:
            out["anova"] = self.anova.table.reset_index(names="source")
            if self.anova.groups is not None:
                out["anova_groups"] = self.anova.groups.reset_index(names="source")
        if (canon := self.canonical_table()) is not None:
            out["canonical"] = canon
        if self.steepest is not None:
            out["steepest_path"] = self.steepest
        return {k: v for k, v in out.items() if not v.empty}

    def tags(self) -> dict[str, str]:
        """Short descriptive values for a tracker: kind, significance method, design words."""
        out = {"doe.analysis": self.kind, "doe.significance": self.method}
        said = self.said
        # the short names a reader sees, with the config key each stands for
        out["doe.factor_names"] = ", ".join(f"{said.name(f)}={f}" for f in self.factors)[:5000]
        if self.defining_relation:
            out["doe.defining_relation"] = self.defining_relation[:500]
            # the key to the letters of the relation (and of `design.generators`), in names
            out["doe.letters"] = ", ".join(f"{v}={said.name(k)}" for k, v in self.letters.items())
            out["doe.letters"] = out["doe.letters"][:5000]
            out["doe.resolution"] = str(self.resolution)
        if self.canonical is not None:
            out["doe.surface"] = self.canonical.nature
        return out

    def metrics(self) -> dict[str, float]:
        """Single numbers for a tracker (finite values only)."""
        out: dict[str, float] = {}
        said = self.said
        for _, r in self.effects.iterrows():
            key = _metric_key(str(r["name"]), said)
            out[f"effect.{key}"] = float(r["effect"])
            if "p" in r and pd.notna(r["p"]):
                out[f"anova.p.{key}"] = float(r["p"])
        if self.lenth is not None:
            out |= {
                "lenth.pse": self.lenth.pse,
                "lenth.me": self.lenth.me,
                "lenth.sme": self.lenth.sme,
            }
        if self.anova is not None:
            out["model.r2"] = self.anova.r_squared
            out["model.adj_r2"] = self.anova.adj_r_squared
            if self.anova.lack_of_fit_p is not None:
                out["lack_of_fit.p"] = self.anova.lack_of_fit_p
            if "curvature" in self.anova.table.index:
                out["curvature.p"] = float(self.anova.table.loc["curvature", "PR(>F)"])
        if self.canonical is not None and self.optimum_claimed:
            out["surface.best_response"] = self.canonical.best_response
            for name, value in (self.natural.get("best") or {}).items():
                if isinstance(value, int | float):
                    out[f"surface.best.{said.name(name)}"] = float(value)
        return {k: v for k, v in out.items() if math.isfinite(v)}

    def text(self) -> str:
        """The analysis as plain text: factors, aliases, significance, surface, notes."""
        said = self.said
        lines = [f"Design: {self.kind}, {self.runs} runs, {self.centre_points} centre points"]
        lines += [
            f"  {letter} = {said.name(name)}" + (f" ({name})" if said.name(name) != name else "")
            for name, letter in self.letters.items()
        ]
        if self.defining_relation:
            lines.append(
                f"Defining relation: {self.defining_relation} (resolution {self.resolution})"
            )
        if not self.aliases.empty:
            lines.append("Alias chains (one effect each):")
            lines += [f"  {c}" for c in self.aliases["chain"]]
        if self.partial_aliasing is not None and not self.partial_aliasing.empty:
            r = self.partial_aliasing["correlation"].abs()
            lines.append(
                f"Partial aliasing: {len(r)} (main effect, interaction) pairs correlated, "
                f"|r| from {r.min():.3g} to {r.max():.3g}"
            )
        if not self.effects.empty:
            lines.append(f"Effects (significance: {self.method}):")
            cols = [c for c in ("chain", "effect", "p", "t (Lenth)", "active") if c in self.effects]
            shown = self.effects[cols].copy()
            shown.insert(1, "effect of", [said.term(str(n)) for n in self.effects["name"]])
            lines += [
                "  " + line for line in shown.to_string(index=False, float_format=_num).splitlines()
            ]
        if self.lenth is not None:
            lt = self.lenth
            lines.append(f"Lenth: m={lt.m}, PSE={lt.pse:.4g}, ME={lt.me:.4g}, SME={lt.sme:.4g}")
        if self.anova is not None:
            if self.anova.groups is not None:
                lines.append("ANOVA by source (sequential sums of squares, which add up):")
                lines += [
                    "  " + line
                    for line in self.anova.groups.to_string(float_format=_num).splitlines()
                ]
            lines.append("ANOVA by term (each term adjusted for all the others):")
            lines += [
                "  " + line for line in self.anova.table.to_string(float_format=_num).splitlines()
            ]
        if (canon := self.canonical_table()) is not None:
            lines.append(f"Canonical analysis: {self.canonical.nature if self.canonical else ''}")
            canon = canon.assign(factor=[said.name(str(f)) for f in canon["factor"]])
            lines += [
                "  " + line for line in canon.to_string(index=False, float_format=_num).splitlines()
            ]
        if self.steepest is not None:
            lines.append("Path of steepest " + ("ascent:" if self.maximize else "descent:"))
            lines += [
                "  " + line
                for line in self.steepest.rename(columns=said.text)
                .to_string(index=False, float_format=_num)
                .splitlines()
            ]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


__all__ = ["DoeAnalysis", "alias_table"]
