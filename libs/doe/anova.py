"""ANOVA on a full-rank model, with pure error and lack of fit.

A model is a list of `Term`s, each one or more columns of the model matrix (a
categorical factor's dummy columns form one term with levels - 1 df). Terms
that add no rank (aliased with terms already in) or that would leave no
residual degrees of freedom are dropped by `reduce_terms`, which says why, so
the table's degrees of freedom never exceed n - 1 and no sum of squares
exceeds the total.

Each term's sum of squares is the extra sum of squares of adding it last
(type III; equal to the sequential one on an orthogonal design), from two
statsmodels OLS fits; on a non-orthogonal design (a CCD's squared terms)
these need not add up. The groups of terms (linear, interaction, quadratic)
get a table of their own with sequential sums of squares, which do add up,
so no table mixes a group with its own members. Runs with identical coded rows give pure error; the
residual minus pure error is lack of fit, tested against pure error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

COLUMNS = ["df", "sum_sq", "mean_sq", "F", "PR(>F)"]
_RANK_TOL = 1e-8


@dataclass(frozen=True)
class Term:
    """One model term: its name (letters), its long name, kind and columns (n x p)."""

    name: str
    label: str
    kind: str  # "main", "interaction", "quadratic", "curvature", "chain"
    columns: np.ndarray

    @property
    def df(self) -> int:
        return int(self.columns.shape[1])


def _rank(x: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(x, tol=_RANK_TOL * max(1.0, float(np.abs(x).max()))))


def model_matrix(terms: Sequence[Term], n: int) -> np.ndarray:
    return np.column_stack([np.ones(n), *[t.columns for t in terms]])


def reduce_terms(
    terms: Sequence[Term], n: int, keep_residual: bool = True
) -> tuple[list[Term], list[tuple[Term, str]]]:
    """Terms in order, each kept only if it adds its full rank (and leaves residual df).

    Returns the kept terms and (term, reason) for each dropped one.
    """
    kept: list[Term] = []
    dropped: list[tuple[Term, str]] = []
    x = np.ones((n, 1))
    rank = 1
    for term in terms:
        trial = np.column_stack([x, term.columns])
        new_rank = _rank(trial)
        if new_rank < rank + term.df:
            dropped.append((term, "aliased"))
        elif keep_residual and n - new_rank < 1:
            dropped.append((term, "no residual df"))
        else:
            kept.append(term)
            x, rank = trial, new_rank
    return kept, dropped


def pure_error(keys: pd.DataFrame, y: np.ndarray) -> tuple[float, int]:
    """Sum of squares and df of replicated runs (rows of `keys` that are identical)."""
    groups = pd.Series(y).groupby([keys[c].round(9).to_numpy() for c in keys.columns])
    ss = float(groups.apply(lambda g: ((g - g.mean()) ** 2).sum()).sum())
    df = int(len(y) - groups.ngroups)
    return ss, df


def pure_error_estimable(pe_ss: float, pe_df: int, y: np.ndarray) -> bool:
    """Whether replicated runs give a pure-error estimate to test against.

    Replicates that agree exactly (a deterministic estimator: an SVM, a ridge
    or logistic regression re-trained with another seed scores the same) have
    pure error 0 with df > 0. That is not "no noise" but "the noise the
    replicates were meant to measure is absent from them": dividing by it
    would make any lack of fit infinitely significant. A pure-error sum of
    squares below 1e-12 of the total is treated as not estimable (lack of fit
    untested), the same tolerance as an exact fit.
    """
    values = np.asarray(y, dtype=float)
    total = float(((values - values.mean()) ** 2).sum()) if len(values) else 0.0
    return pe_df > 0 and pe_ss > 1e-12 * max(total, 1e-300)


@dataclass(frozen=True)
class AnovaResult:
    """The ANOVA table, the fitted coefficients, R^2 and the lack-of-fit test."""

    table: pd.DataFrame  # rows: terms, Residual, Lack of fit, Pure error, Total
    coefficients: pd.DataFrame  # coef, std err, t, P>|t| per column (Intercept first)
    r_squared: float
    adj_r_squared: float
    residual_df: int
    pure_error_df: int
    lack_of_fit_p: float | None
    exact_fit: bool
    # rows: Block, Linear (Main effects), Interaction, Quadratic (sequential sums of
    # squares, which add up to the model's), Residual, Lack of fit, Pure error, Total
    groups: pd.DataFrame | None = None


def _f_row(ss: float, df: int, ms_error: float, df_error: int) -> list[float]:
    ms = ss / df if df else float("nan")
    if df_error < 1 or not ms_error > 0:
        return [df, ss, ms, float("nan"), float("nan")]
    f = ms / ms_error
    return [df, ss, ms, f, float(stats.f.sf(f, df, df_error))]


def anova(
    terms: Sequence[Term],
    y: np.ndarray,
    keys: pd.DataFrame,
    groups: dict[str, list[str]] | None = None,
) -> AnovaResult:
    """ANOVA of y on the full-rank `terms`; `keys` (coded runs) define replicates.

    `groups` adds summary rows (e.g. 'Linear' -> its term names) tested as a
    block. Terms must come from `reduce_terms` (full rank, residual df >= 1).
    """
    n = len(y)
    x = model_matrix(terms, n)
    fit = sm.OLS(y, x).fit()
    rss = float(fit.ssr)
    df_resid = int(n - _rank(x))
    total = float(((y - y.mean()) ** 2).sum())
    exact = rss <= 1e-12 * max(total, 1e-300)
    ms_e = rss / df_resid if df_resid and not exact else 0.0

    def extra_ss(drop: set[str]) -> tuple[float, int]:
        rest = [t for t in terms if t.name not in drop]
        reduced = sm.OLS(y, model_matrix(rest, n)).fit()
        return max(float(reduced.ssr) - rss, 0.0), sum(t.df for t in terms if t.name in drop)

    rows: dict[str, list[float]] = {}
    group_rows = _sequential_groups(terms, y, groups, ms_e, df_resid) if groups else {}
    for term in terms:
        ss, df = extra_ss({term.name})
        rows[term.name] = _f_row(ss, df, ms_e, df_resid)
    rows["Residual"] = [df_resid, rss, ms_e if df_resid else float("nan"), np.nan, np.nan]
    pe_ss, pe_df = pure_error(keys, y)
    lof_df = df_resid - pe_df
    lof_p = None
    if pe_df > 0:
        lof_ss = max(rss - pe_ss, 0.0)
        if lof_df > 0 and pure_error_estimable(pe_ss, pe_df, y):
            ms_pe = pe_ss / pe_df
            rows["Lack of fit"] = _f_row(lof_ss, lof_df, ms_pe, pe_df)
            p = rows["Lack of fit"][4]
            lof_p = None if np.isnan(p) else float(p)
        rows["Pure error"] = [pe_df, pe_ss, pe_ss / pe_df, np.nan, np.nan]
    rows["Total"] = [n - 1, total, np.nan, np.nan, np.nan]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    table["df"] = table["df"].astype(int)
    group_table = None
    if group_rows:
        tail = {k: v for k, v in rows.items() if k in ("Residual", "Lack of fit", "Pure error")}
        group_table = pd.DataFrame.from_dict(
            {**group_rows, **tail, "Total": rows["Total"]}, orient="index", columns=COLUMNS
        )
        group_table["df"] = group_table["df"].astype(int)
    names = [
        "Intercept",
        *[f"{t.name}[{i}]" if t.df > 1 else t.name for t in terms for i in range(t.df)],
    ]
    coefs = pd.DataFrame(
        {
            "coef": fit.params,
            "std err": fit.bse if df_resid else np.nan,
            "t": fit.tvalues if df_resid and not exact else np.nan,
            "P>|t|": fit.pvalues if df_resid and not exact else np.nan,
        },
        index=names,
    )
    return AnovaResult(
        table=table,
        coefficients=coefs,
        r_squared=float(fit.rsquared) if total > 0 else float("nan"),
        adj_r_squared=float(fit.rsquared_adj) if total > 0 and df_resid else float("nan"),
        residual_df=df_resid,
        pure_error_df=pe_df,
        lack_of_fit_p=lof_p,
        exact_fit=exact,
        groups=group_table,
    )


_GROUP_ORDER = ("Block", "Linear", "Main effects", "Interaction", "Quadratic")


def _sequential_groups(
    terms: Sequence[Term],
    y: np.ndarray,
    groups: dict[str, list[str]],
    ms_e: float,
    df_resid: int,
) -> dict[str, list[float]]:
    """Sequential (type I) sums of squares of the term groups, blocks first, then linear,
    two-factor interactions, quadratic (Montgomery, 9th ed., Table 11.8's sources): each
    group's rows add what it explains beyond the groups before it, so they add up to the
    model's sum of squares, and with the residual to the total."""
    named = {m: g for g, members in groups.items() for m in members}
    blocks = [t.name for t in terms if t.kind == "block"]
    members: dict[str, list[str]] = {"Block": blocks} if blocks else {}
    for t in terms:
        if t.kind != "block":
            members.setdefault(named.get(t.name, "Other"), []).append(t.name)
    order = [g for g in _GROUP_ORDER if g in members] + [
        g for g in members if g not in _GROUP_ORDER
    ]
    n = len(y)
    included: list[Term] = []
    previous = float(sm.OLS(y, np.ones((n, 1))).fit().ssr)
    out: dict[str, list[float]] = {}
    for group in order:
        included += [t for t in terms if t.name in members[group]]
        ssr = float(sm.OLS(y, model_matrix(included, n)).fit().ssr)
        df = sum(t.df for t in terms if t.name in members[group])
        out[group] = _f_row(max(previous - ssr, 0.0), df, ms_e, df_resid)
        previous = ssr
    return out


__all__ = ["AnovaResult", "Term", "anova", "model_matrix", "pure_error", "reduce_terms"]
