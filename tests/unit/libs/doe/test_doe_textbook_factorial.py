"""Two-level designs against textbook examples with known answers.

Montgomery, Design and Analysis of Experiments (8th ed.), Examples 6.2, 8.1
and 11.1; designs with constructed responses whose true effects are exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydoe
import pytest

from libs.doe import ContinuousFactor, FactorSpace, analyse


def standard_order(k: int, names: str) -> pd.DataFrame:
    """A 2^k in standard (Yates) order: the first factor changes fastest."""
    rows = [[1.0 if (i >> j) & 1 else -1.0 for j in range(k)] for i in range(2**k)]
    return pd.DataFrame(rows, columns=list(names))


def effect(result, term: str) -> float:
    row = result.effects.set_index("term").loc[term]
    return float(row["effect"])


# Montgomery Example 6.2: filtration rate of a chemical, unreplicated 2^4
# (A temperature, B pressure, C formaldehyde concentration, D stirring rate).
FILTRATION = [45, 71, 48, 65, 68, 60, 80, 65, 43, 100, 45, 104, 75, 86, 70, 96]


def test_unreplicated_two_to_the_four_montgomery_6_2() -> None:
    """Montgomery Ex. 6.2: all 15 effects; Lenth finds A, C, D, AC, AD active."""
    # given
    coded = standard_order(4, "ABCD")
    # when
    result = analyse(coded, FILTRATION)
    # then: 2^4 - 1 effects, higher orders included, each once
    assert len(result.effects) == 15 and result.effects["term"].is_unique
    assert "ABCD" in set(result.effects["term"])
    expected = {"A": 21.625, "B": 3.125, "C": 9.875, "D": 14.625, "AC": -18.125, "AD": 16.625}
    for term, value in expected.items():
        assert effect(result, term) == pytest.approx(value)
    # and: no residual df, so Lenth's method with its PSE, ME and SME
    assert result.method == "lenth" and result.anova is None
    lt = result.lenth
    assert lt is not None and lt.m == 15
    assert lt.pse == pytest.approx(2.625)
    assert lt.me == pytest.approx(2.5706 * 2.625, rel=1e-3)  # t(0.975; 5)
    assert lt.sme > lt.me
    assert set(lt.active) == {"A", "C", "D", "AC", "AD"}
    assert set(lt.strong) <= set(lt.active)
    assert any("Lenth's method" in n for n in result.notes)


def test_half_fraction_montgomery_8_1() -> None:
    """Montgomery Ex. 8.1: the 2^(4-1) (D = ABC) of the filtration experiment."""
    # given: runs in standard order of A, B, C, with D = ABC
    coded = standard_order(3, "ABC")
    coded["D"] = coded["A"] * coded["B"] * coded["C"]
    y = [45, 100, 45, 65, 75, 60, 80, 96]
    # when
    result = analyse(coded, y)
    # then: seven chains, named by their lowest-order member
    assert result.defining_relation == "I = ABCD" and result.resolution == 4
    chains = list(result.aliases["chain"])
    assert chains == [
        "A = BCD",
        "B = ACD",
        "C = ABD",
        "D = ABC",
        "AB = CD",
        "AC = BD",
        "AD = BC",
    ]
    expected = {"A": 19.0, "B": 1.5, "C": 14.0, "D": 16.5, "AB": -1.0, "AC": -18.5, "AD": 19.0}
    assert {t: effect(result, t) for t in expected} == pytest.approx(expected)
    assert len(result.effects) == 7
    # and: the words say which interactions are aliased (not "confounded": a word kept
    # for blocks) and how to separate them, in factor names (issue 33), not letters
    assert any("A x B is aliased with C x D" in n and "fold over" in n for n in result.notes)
    assert not any("confounded" in n for n in result.notes)


def test_resolution_three_two_to_the_seven_minus_four() -> None:
    """A 2^(7-4) (D=AB, E=AC, F=BC, G=ABC) with constructed effects A=4, B=-2, F=1.

    Constructed data (true effects exact, small noise): 7 chains, each naming
    its two-factor aliases; no interaction reported as a separate effect.
    """
    # given
    coded = pd.DataFrame(pydoe.fracfact("a b c ab ac bc abc"), columns=list("abcdefg"))
    noise = np.array([0.01, -0.02, 0.015, 0.0, -0.01, 0.02, -0.005, 0.01])
    y = 10 + 2 * coded["a"] - coded["b"] + 0.5 * coded["f"] + noise
    # when
    result = analyse(coded, y)
    # then
    assert result.resolution == 3
    assert len(result.aliases) == 7 == len(result.effects)
    assert result.effects["term"].tolist() == list("ABCDEFG")
    first = result.aliases.set_index("term")["chain"]
    assert first["A"].startswith("A = BD = CE = FG")
    assert first["D"].startswith("D = AB = CG = EF")
    assert effect(result, "A") == pytest.approx(4.0, abs=0.05)
    assert effect(result, "B") == pytest.approx(-2.0, abs=0.05)
    assert effect(result, "F") == pytest.approx(1.0, abs=0.05)
    assert result.lenth is not None and set(result.lenth.active) == {"A", "B", "F"}
    assert not result.interactions_estimable
    assert any("full fold-over" in n for n in result.notes)


def test_rank_deficient_two_to_the_six_minus_two_model_is_reduced() -> None:
    """2^(6-2), E = ABC, F = BCD, asked for all 21 main + two-factor terms.

    The model matrix has rank 14: one term per chain (13) is kept, the 8
    aliased two-factor copies are dropped with a note, df sum to n - 1 and no
    sum of squares exceeds the total. Constructed data: A = 2, BC (= AE = DF) = 1.
    """
    # given
    coded = pd.DataFrame(pydoe.fracfact("a b c d abc bcd"), columns=list("abcdef"))
    rng = np.random.default_rng(2)
    y = 5 + coded["a"] + 0.5 * coded["b"] * coded["c"] + rng.normal(0, 0.1, 16)
    # when
    result = analyse(coded, y, order=2)
    # then
    assert result.anova is not None
    table = result.anova.table
    terms = [t for t in table.index if t not in ("Residual", "Total")]
    assert len(terms) == 13
    assert table.loc[[*terms, "Residual"], "df"].sum() == 15 == table.loc["Total", "df"]
    assert (table.loc[terms, "sum_sq"] <= table.loc["Total", "sum_sq"] + 1e-9).all()
    assert table.loc[[*terms, "Residual"], "sum_sq"].sum() == pytest.approx(
        table.loc["Total", "sum_sq"]
    )
    note = next(n for n in result.notes if n.startswith("dropped from the requested model"))
    assert "c x e (aliased with a x b)" in note and "b x c (aliased with a x e)" in note
    assert table.loc["A", "PR(>F)"] < 0.01 and table.loc["AE", "PR(>F)"] < 0.01


def test_plackett_burman_twelve_runs_reports_partial_aliasing() -> None:
    """The 12-run Plackett-Burman: every two-factor interaction not involving a
    main effect is correlated +-1/3 with it (Box-Hunter-Hunter ch. 7); only main
    effects are estimated. Constructed data: effects of f0 = 6 and f3 = -4.
    """
    # given
    coded = pd.DataFrame(pydoe.pbdesign(11), columns=[f"f{i}" for i in range(11)])
    y = 10 + 3 * coded["f0"] - 2 * coded["f3"] + np.random.default_rng(1).normal(0, 0.3, 12)
    # when
    result = analyse(coded, y)
    # then
    assert result.kind == "two-level, non-regular"
    assert result.resolution is None and result.defining_relation == ""
    partial = result.partial_aliasing
    assert partial is not None and len(partial) == 11 * 45
    assert np.allclose(partial["correlation"].abs(), 1 / 3, atol=1e-3)
    assert len(result.effects) == 11 and not result.interactions_estimable
    assert effect(result, "A") == pytest.approx(6.0, abs=0.5)
    assert result.lenth is not None and set(result.lenth.active) == {"A", "D"}
    assert any("partially aliased" in n for n in result.notes)


def test_too_few_effects_for_lenth_says_so() -> None:
    """2^(3-1) (C = AB): three chains A = BC, B = AC, C = AB; Lenth needs m >= 7."""
    # given
    coded = standard_order(2, "ab")
    coded["c"] = coded["a"] * coded["b"]
    # when
    result = analyse(coded, [1.0, 3.0, 2.5, 6.0])
    # then
    assert list(result.aliases["chain"]) == ["A = BC", "B = AC", "C = AB"]
    assert result.method == "none" and result.lenth is None
    assert result.standardized() is None
    assert any("too few effects for Lenth's method" in n for n in result.notes)


def test_centre_points_give_pure_error_curvature_and_path_montgomery_11_1() -> None:
    """Montgomery Ex. 11.1: 2^2 with 5 centre points (time 30-40 min, temperature
    150-160 F). Pure error SS 0.1720 on 4 df, curvature SS 0.0027 (not
    significant), first-order fit y = 40.44 + 0.775 x1 + 0.325 x2; the path of
    steepest ascent moves x2 0.42 per unit of x1 (5 min and about 2 F).
    """
    # given
    factorial = standard_order(2, ["time", "temp"])  # type: ignore[arg-type]
    centre = pd.DataFrame(np.zeros((5, 2)), columns=["time", "temp"])
    coded = pd.concat([factorial, centre], ignore_index=True)
    y = [39.3, 40.9, 40.0, 41.5, 40.3, 40.5, 40.7, 40.2, 40.6]
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="time", low=30, high=40),
            ContinuousFactor(name="temp", low=150, high=160),
        ]
    )
    # when
    result = analyse(coded, y, space)
    # then
    fit = result.anova
    assert fit is not None and result.centre_points == 5
    assert fit.table.loc["Pure error", "sum_sq"] == pytest.approx(0.1720, abs=1e-4)
    assert fit.table.loc["Pure error", "df"] == 4
    assert fit.table.loc["curvature", "sum_sq"] == pytest.approx(0.0027, abs=1e-4)
    assert fit.table.loc["curvature", "PR(>F)"] > 0.05
    assert effect(result, "A") == pytest.approx(2 * 0.775)
    assert any("no significant curvature" in n for n in result.notes)
    path = result.steepest
    assert path is not None
    assert path.loc[1, "temp (coded)"] == pytest.approx(0.325 / 0.775)
    assert path.loc[1, "time"] == pytest.approx(40.0)
    assert path.loc[1, "temp"] == pytest.approx(157.1, abs=0.05)


def test_every_chain_is_estimated_once_for_any_regular_fraction() -> None:
    """Property: a regular 2^(k-p) has 2^(k-p) - 1 chains, no word in two of them."""
    for gen in ("a b ab", "a b c abc", "a b c ab ac", "a b c d abcd", "a b c d abc abd"):
        coded = pd.DataFrame(pydoe.fracfact(gen))
        coded.columns = [f"x{i}" for i in range(coded.shape[1])]
        y = np.random.default_rng(0).normal(size=len(coded))
        result = analyse(coded, y)
        n = len(coded)
        assert len(result.effects) == n - 1
        words = [w for c in result.aliases["chain"] for w in c.replace("-", "").split(" = ")]
        assert len(words) == len(set(words))
        assert result.defining_relation.startswith("I = ")
        assert all(len(set(w)) == len(w) for w in words)


def test_full_fold_over_of_a_resolution_three_design_clears_main_effects() -> None:
    """Box-Hunter-Hunter ch. 6: the 2^(7-4) plus its mirror image is resolution IV.

    The analysis reads the merged matrix alone: main-effect chains lose their
    two-factor aliases, and the two-factor chains stay confounded in threes.
    """
    # given
    first = pd.DataFrame(pydoe.fracfact("a b c ab ac bc abc"), columns=list("abcdefg"))
    merged = pd.concat([first, -first], ignore_index=True)
    y = np.random.default_rng(4).normal(size=len(merged))
    # when
    result = analyse(merged, y)
    # then
    assert result.resolution == 4 and len(result.effects) == 15
    chains = result.aliases.set_index("term")["chain"]
    assert all(len(w) >= 3 for w in chains["A"].split(" = ")[1:])
    assert chains["AB"].startswith("AB = CG = EF")  # D = AB = CG = EF before


@pytest.mark.parametrize(
    ("coded", "y", "message"),
    [
        (pd.DataFrame({"a": [-1.0, 1.0]}), [1.0], "2 design rows"),
        (pd.DataFrame({"a": [-1.0, 1.0]}), [1.0, float("nan")], "finite"),
        (pd.DataFrame({"a": [1.0, 1.0]}), [1.0, 2.0], "constant"),
        (pd.DataFrame({"a": ["x", "y"]}), [1.0, 2.0], "not numeric"),
        (pd.DataFrame(), [], "one column per factor"),
    ],
)
def test_bad_inputs_are_one_line_errors(coded: pd.DataFrame, y: list[float], message: str) -> None:
    from libs.errors import InputError

    with pytest.raises(InputError, match=message):
        analyse(coded, y)


def test_model_order_below_one_is_rejected() -> None:
    from libs.errors import InputError

    with pytest.raises(InputError, match="order"):
        analyse(standard_order(2, "ab"), [1.0, 2.0, 3.0, 4.0], order=0)


def test_replicated_factorial_tests_against_pure_error_montgomery_6_1() -> None:
    """Montgomery Ex. 6.1 (2^2, three replicates): SS_A 208.33, SS_B 75.00, SS_AB 8.33,
    error 31.34 on 8 df, which is all pure error (no lack of fit in the full model).
    """
    # given
    runs = {
        (-1, -1): [28, 25, 27],
        (1, -1): [36, 32, 32],
        (-1, 1): [18, 19, 23],
        (1, 1): [31, 30, 29],
    }
    rows = [(a, b, obs) for (a, b), ys in runs.items() for obs in ys]
    data = pd.DataFrame(rows, columns=["A", "B", "y"], dtype=float)
    # when
    result = analyse(data[["A", "B"]], data["y"])
    # then
    assert result.method == "anova" and result.anova is not None
    table = result.anova.table
    assert table.loc["A", "sum_sq"] == pytest.approx(208.33, abs=0.01)
    assert table.loc["B", "sum_sq"] == pytest.approx(75.00, abs=0.01)
    assert table.loc["AB", "sum_sq"] == pytest.approx(8.33, abs=0.01)
    assert table.loc["Pure error", "sum_sq"] == pytest.approx(31.34, abs=0.01)
    assert table.loc["Residual", "df"] == table.loc["Pure error", "df"] == 8
    assert "Lack of fit" not in table.index
    assert table.loc["A", "PR(>F)"] < 0.001 and table.loc["AB", "PR(>F)"] > 0.1
    assert any("against pure error (8 df)" in n for n in result.notes)
