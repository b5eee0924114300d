"""Lenth's method for unreplicated two-level designs (Lenth 1989, Technometrics 31:469).

PSE = 1.5 x median of the |effects| below 2.5 s0, where s0 = 1.5 x median |effect|.
The margin of error ME = t(0.975; m/3) x PSE flags effects one at a time; the
simultaneous margin SME = t(gamma; m/3) x PSE, gamma = (1 + 0.95^(1/m)) / 2,
holds for all m effects together.

It needs enough effects for the median to be set by the inactive ones:
Lenth's own tables start at m = 7 (a 2^3), and below that m/3 < 2.4 df put
the t cut-off far beyond any real effect (m = 3: t = 12.7). With fewer than
`MIN_EFFECTS` effects the method says so instead of printing numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

MIN_EFFECTS = 7


@dataclass(frozen=True)
class Lenth:
    """Lenth's PSE, ME and SME for m effects; `active` beyond ME, `strong` beyond SME."""

    m: int
    pse: float
    df: float
    me: float
    sme: float
    active: tuple[str, ...]
    strong: tuple[str, ...]


def lenth(effects: pd.Series, alpha: float = 0.05) -> Lenth | None:
    """Lenth's method on one effect per alias chain; None when there are too few effects."""
    values = np.abs(effects.to_numpy(dtype=float))
    m = len(values)
    if m < MIN_EFFECTS:
        return None
    s0 = 1.5 * float(np.median(values))
    trimmed = values[values < 2.5 * s0]
    pse = 1.5 * float(np.median(trimmed)) if trimmed.size else 0.0
    if not pse > 1e-9 * float(values.max()):
        return None  # the inactive effects are zero to rounding: no noise to scale by
    df = m / 3
    me = float(stats.t.ppf(1 - alpha / 2, df)) * pse
    gamma = (1 + (1 - alpha) ** (1 / m)) / 2
    sme = float(stats.t.ppf(gamma, df)) * pse
    order = effects.abs().sort_values(ascending=False).index
    active = tuple(str(i) for i in order if abs(effects[i]) > me)
    strong = tuple(str(i) for i in order if abs(effects[i]) > sme)
    return Lenth(m, pse, df, me, sme, active, strong)


def half_normal_quantiles(m: int) -> np.ndarray:
    """Half-normal plotting positions for m ordered |effects|: Phi^-1(0.5 + 0.5 (i - 0.5)/m)."""
    i = np.arange(1, m + 1)
    return np.asarray(stats.norm.ppf(0.5 + 0.5 * (i - 0.5) / m), dtype=float)


__all__ = ["MIN_EFFECTS", "Lenth", "half_normal_quantiles", "lenth"]
