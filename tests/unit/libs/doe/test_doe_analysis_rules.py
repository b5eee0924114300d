"""Textbook rules the DOE analysis follows (issue 31), each against the rule or example it cites.

Montgomery, Design and Analysis of Experiments, 9th ed. (sections cited per test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from libs.doe import (
    CategoricalFactor,
    ContinuousFactor,
    FactorSpace,
    analyse,
    anova_table,
    interaction_effects,
    main_effects,
    response_surface,
)
from libs.doe.responses import ResponseGoal, combine_responses
from libs.doe.sweep import SweepAnalysis
from libs.errors import InputError

ALPHA = 1.414
# Montgomery Ex. 11.2's rotatable CCD (coded), 5 centre points.
CCD = pd.DataFrame(
    [
        [-1, -1],
        [-1, 1],
        [1, -1],
        [1, 1],
        *[[0, 0]] * 5,
        [ALPHA, 0],
        [-ALPHA, 0],
        [0, ALPHA],
        [0, -ALPHA],
    ],
    columns=["time", "temp"],
    dtype=float,
)
Y_11_2 = [76.5, 77.0, 78.0, 79.5, 79.9, 80.3, 80.0, 79.7, 79.8, 78.4, 75.6, 78.5, 77.0]
SPACE = FactorSpace(
    factors=[
        ContinuousFactor(name="time", low=80, high=90),
        ContinuousFactor(name="temp", low=170, high=180),
    ]
)


def test_no_fitted_optimum_claimed_under_significant_lack_of_fit() -> None:
    """Montgomery section 11.3 (and Ex. 11.2, where lack of fit is NOT significant and the
    maximum is claimed): a second-order surface whose lack of fit is significant against
    pure error does not describe the response, so its stationary point is not reported
    as an optimum; the note says what to do."""
    # given: a cubic in time that no quadratic follows, the centre runs giving pure error
    x1, x2 = CCD["time"], CCD["temp"]
    noise = np.array([0, 0, 0, 0, 0.1, -0.1, 0.2, 0, -0.2, 0, 0, 0, 0])
    y = 3 * x1**3 + 2 * x2 + noise
    # when
    result = analyse(CCD, y, SPACE)
    # then
    assert result.anova is not None and result.anova.lack_of_fit_p is not None
    assert result.anova.lack_of_fit_p < 0.05
    assert result.canonical is not None and not result.canonical.is_optimum
    assert not result.optimum_claimed
    assert "surface.best_response" not in result.metrics()
    note = next(n for n in result.notes if "no fitted optimum is claimed" in n)
    assert "augment" in note and "transform" in note and "narrow" in note
    assert SweepAnalysis("ccd", 13, 0, result).best_fitted() is None
    # and: Ex. 11.2 itself (lack of fit p > 0.05) keeps its claimed maximum
    good = analyse(CCD, Y_11_2, SPACE)
    assert good.optimum_claimed and good.canonical is not None and good.canonical.is_optimum
    fitted = SweepAnalysis("ccd", 13, 0, good).best_fitted()
    assert fitted is not None and fitted[2].startswith("optimum")


def _two_to_the_four() -> pd.DataFrame:
    rows = [[1.0 if (i >> j) & 1 else -1.0 for j in range(4)] for i in range(16)]
    return pd.DataFrame(rows, columns=["a", "b", "c", "d"])


SPACE_4 = FactorSpace(
    factors=[ContinuousFactor(name=n, low=0.0, high=1.0) for n in ["a", "b", "c", "d"]]
)


def test_no_path_of_steepest_ascent_from_noise() -> None:
    """Montgomery section 11.2: the path follows a first-order model that fits and is
    significant; Lenth (1989, Technometrics 31:469) judges an unreplicated 2^4. On pure
    noise no effect is active, so no path (and no --next) is proposed."""
    # given
    y = np.random.default_rng(5).normal(0, 1, 16)
    # when
    result = analyse(_two_to_the_four(), y, SPACE_4)
    # then
    assert result.lenth is not None and not result.lenth.active
    assert result.steepest is None
    assert any("no path of steepest ascent: Lenth" in n for n in result.notes)


def test_path_of_steepest_ascent_from_active_main_effects() -> None:
    """Montgomery Ex. 6.2 (filtration rate, unreplicated 2^4): Lenth finds A, C and D
    active, so a path is proposed."""
    # given: Table 6.10 in standard order (A fastest)
    filtration = [45, 71, 48, 65, 68, 60, 80, 65, 43, 100, 45, 104, 75, 86, 70, 96]
    # when
    result = analyse(_two_to_the_four(), filtration, SPACE_4)
    # then
    assert result.lenth is not None and {"A", "C", "D"} <= set(result.lenth.active)
    assert result.steepest is not None


def test_no_path_when_the_anova_finds_no_main_effect() -> None:
    """Montgomery Ex. 11.1's design (2^2 + 5 centre points) with responses whose main
    effects are smaller than the centre runs' spread: the F test of the first-order model
    is not significant, so no path is proposed."""
    coded = pd.DataFrame(
        [[-1, -1], [1, -1], [-1, 1], [1, 1], *[[0, 0]] * 5], columns=["a", "b"], dtype=float
    )
    y = [40.0, 40.1, 39.9, 40.0, 40.3, 39.5, 40.7, 39.2, 40.6]
    space = FactorSpace(factors=SPACE_4.factors[:2])
    result = analyse(coded, y, space)
    assert result.steepest is None
    assert any("not significant together" in n for n in result.notes)
    # and: Ex. 11.1's own responses do give the path (F test p = 0.0002)
    ex = analyse(coded, [39.3, 40.9, 40.0, 41.5, 40.3, 40.5, 40.7, 40.2, 40.6], space)
    assert ex.steepest is not None
    assert ex.steepest["b (coded)"].iloc[1] == pytest.approx(0.325 / 0.775)
    # and: the path's predictions come from the first-order model without the curvature
    # term: intercept 40.44 (the mean of all nine runs), not the centre mean 40.46
    predicted = ex.steepest["predicted"]
    assert predicted.iloc[0] == pytest.approx(40.444, abs=1e-3)
    assert predicted.iloc[1] == pytest.approx(40.444 + 0.775 + 0.325 * 0.325 / 0.775, abs=1e-3)


# Montgomery Ex. 3.1: etch rate at four RF power levels, five wafers each.
ETCH = {
    160: [575, 542, 530, 539, 570],
    180: [565, 593, 590, 579, 610],
    200: [600, 651, 610, 637, 629],
    220: [725, 700, 715, 685, 710],
}


def _etch() -> tuple[pd.DataFrame, list[float], FactorSpace]:
    space = FactorSpace(factors=[CategoricalFactor(name="power", levels=list(ETCH))])
    power = space.factor("power")
    codes = [power.encode(level) for level, ys in ETCH.items() for _ in ys]
    y = [float(v) for ys in ETCH.values() for v in ys]
    return pd.DataFrame({"power": codes}), y, space


def test_anova_table_fits_a_multi_level_categorical_as_one_term_montgomery_3_1() -> None:
    """Montgomery Ex. 3.1: SS(power) = 66,870.55 on 3 df, SS(error) = 5,339.20 on 16 df,
    F = 66.80. As one numeric column the factor would get 1 df and the linear trend's SS."""
    # given
    coded, y, space = _etch()
    # when
    table = anova_table(coded, y, space=space)
    # then
    assert table.loc["power", "df"] == 3
    assert table.loc["power", "sum_sq"] == pytest.approx(66870.55, abs=0.01)
    assert table.loc["Residual", "df"] == 16
    assert table.loc["Residual", "sum_sq"] == pytest.approx(5339.20, abs=0.01)
    assert table.loc["power", "F"] == pytest.approx(66.80, abs=0.01)
    # and: naming it works the same without a space
    named = anova_table(coded, y, categorical=["power"])
    assert named.loc["power", "sum_sq"] == pytest.approx(66870.55, abs=0.01)


def test_effect_helpers_refuse_a_multi_level_categorical() -> None:
    coded, y, space = _etch()
    with pytest.raises(InputError, match="main_effects: factor 'power' is categorical with 4"):
        main_effects(coded, y, space=space)
    two = pd.concat([coded, coded.rename(columns={"power": "other"})], axis=1)
    with pytest.raises(InputError, match="interaction_effects: factor 'power'"):
        interaction_effects(two, y, categorical=["power"])


def test_response_surface_and_analyse_search_one_region_montgomery_11_2() -> None:
    """Montgomery section 11.4.1: a rotatable CCD supports a spherical region of radius
    alpha. On Ex. 11.2 (maximum inside: x1 = 0.389, x2 = 0.306) and on the same design
    with the maximum pushed outside, `response_surface` and `analyse` give one answer."""
    for y in (np.array(Y_11_2), np.array(Y_11_2) + 3 * CCD["time"] - 2 * CCD["temp"]):
        surface = response_surface(CCD, y, SPACE)
        canon = analyse(CCD, y, SPACE).canonical
        assert canon is not None
        got = [surface.optimum_coded["time"], surface.optimum_coded["temp"]]
        assert got == pytest.approx(list(canon.best), abs=1e-4)
        assert float(np.hypot(*got)) <= ALPHA + 1e-6
    assert got != pytest.approx([1.0, -1.0], abs=1e-3)  # not the old box's corner


def test_pareto_front_is_over_every_response() -> None:
    """Myers, Montgomery and Anderson-Cook, RSM 4th ed., section 6.6: a run is on the
    Pareto front when no other run is at least as good in every response and better in
    one. With three responses, a run that is dominated in the first two but best in the
    third is on the front (the old column used only the first two)."""
    # given: y1 max, y2 min, y3 target 5
    space = FactorSpace(factors=[ContinuousFactor(name="a", low=0, high=1)])
    coded = pd.DataFrame({"a": [-1.0, 0.0, 1.0, 0.5]})
    points = [{"a": v} for v in (0.0, 0.5, 1.0, 0.75)]
    values = {
        "y1": {0: 10.0, 1: 8.0, 2: 6.0, 3: 7.0},
        "y2": {0: 1.0, 1: 2.0, 2: 3.0, 3: 3.0},
        "y3": {0: 9.0, 1: 9.0, 2: 5.5, 3: 9.5},
    }
    goals = {
        "y1": ResponseGoal(metric="y1"),
        "y2": ResponseGoal(metric="y2"),
        "y3": ResponseGoal(metric="y3", goal="target", target=5.0),
    }
    natural = {"y1": "maximize", "y2": "minimize", "y3": "maximize"}
    # when
    multi = combine_responses(coded, points, space, values, goals, natural, {})
    # then: run 0 dominates 1, 2 and 3 in (y1, y2); run 2 is closest to y3's target
    assert multi.table["pareto"].tolist() == [True, False, True, False]
    assert multi.pareto_responses == ("y1", "y2", "y3")
    assert any("all 3 responses" in n for n in multi.notes)


FILTRATION = [45, 71, 48, 65, 68, 60, 80, 65, 43, 100, 45, 104, 75, 86, 70, 96]


def test_confounded_with_blocks_is_not_called_aliased_montgomery_7_2() -> None:
    """Montgomery Ex. 7.2: Ex. 6.2's 2^4 run in two blocks with ABCD confounded with
    blocks, block 1 ((1), ab, ..., abcd: ABCD = +1) reading 20 lower. The effects of A, C,
    D, AC and AD are as in Ex. 6.2 (21.625, 9.875, 14.625, -18.125, 16.625); ABCD is
    confounded with blocks, and is said to be (not "aliased with terms in the model")."""
    # given
    coded = _two_to_the_four()
    coded.columns = ["A", "B", "C", "D"]
    abcd = coded.prod(axis=1).to_numpy()
    block = [1 if v > 0 else 2 for v in abcd]
    y = [v - 20 if b == 1 else v for v, b in zip(FILTRATION, block, strict=True)]
    # when
    result = analyse(coded, y, block=block)
    # then
    effects = result.effects.set_index("term")["effect"]
    expected = {"A": 21.625, "C": 9.875, "D": 14.625, "AC": -18.125, "AD": 16.625}
    assert {t: float(effects[t]) for t in expected} == pytest.approx(expected)
    assert ("ABCD", "A:B:C:D", "confounded with blocks") in result.dropped
    note = next(n for n in result.notes if "confounded with blocks" in n)
    assert "A x B x C x D" in note  # factor names, not letters (issue 33)
    assert not any("aliased with terms" in n for n in result.notes)


def test_surface_anova_tables_add_up_montgomery_11_2() -> None:
    """Montgomery Ex. 11.2 (Design-Expert's ANOVA): A 7.92, B 2.12, A^2 13.18, B^2 6.97,
    AB 0.25, residual 0.50 (lack of fit 0.28, pure error 0.21), total 28.75. The sources
    (linear 10.04, interaction 0.25, quadratic 17.95, sequential) form their own table whose
    sums of squares and df add up to the total; no table lists a group beside its members."""
    # when
    fit = analyse(CCD, Y_11_2, SPACE).anova
    # then: the table by term
    assert fit is not None and fit.groups is not None
    terms = fit.table
    expected = {"A": 7.92, "B": 2.12, "A^2": 13.17, "B^2": 6.97, "AB": 0.25}
    assert {k: terms.loc[k, "sum_sq"] for k in expected} == pytest.approx(expected, abs=0.01)
    assert not {"Linear", "Interaction", "Quadratic"} & set(terms.index)
    # and: the table by source adds up
    groups = fit.groups
    sources = ["Linear", "Interaction", "Quadratic", "Residual"]
    assert list(groups.index) == [*sources, "Lack of fit", "Pure error", "Total"]
    ss = groups["sum_sq"]
    assert [ss["Linear"], ss["Interaction"], ss["Quadratic"]] == pytest.approx(
        [10.04, 0.25, 17.95], abs=0.01
    )
    assert ss[sources].sum() == pytest.approx(ss["Total"], rel=1e-12)
    assert ss["Total"] == pytest.approx(28.75, abs=0.01)
    assert groups["df"][sources].sum() == groups.loc["Total", "df"]
    assert ss["Lack of fit"] + ss["Pure error"] == pytest.approx(ss["Residual"])


def test_stationary_and_rising_ridges_are_told_apart() -> None:
    """Montgomery 9th ed. section 11.3.2 (and Myers, Montgomery and Anderson-Cook, RSM,
    chapter 6, ridge systems): with an eigenvalue near zero, a stationary point inside
    the region is a stationary ridge (many settings along the ridge give nearly the best
    response), one far outside a rising ridge (the response keeps improving along it, so
    move). Constructed on Ex. 11.2's design: y = 80 - 2 (x1 - x2)^2 - 0.02 (x1 + x2)^2
    (+ (x1 + x2) for the rising ridge, which moves the stationary point to x1 = x2 = 12.5)."""
    x1, x2 = CCD["time"], CCD["temp"]
    base = 80 - 2 * (x1 - x2) ** 2 - 0.02 * (x1 + x2) ** 2
    noise = np.array([0, 0, 0, 0, 0.01, -0.01, 0.02, 0, -0.02, 0, 0, 0, 0])
    # when
    still = analyse(CCD, base + noise, SPACE)
    rising = analyse(CCD, base + (x1 + x2) + noise, SPACE)
    # then
    assert still.canonical is not None and rising.canonical is not None
    assert still.canonical.nature == rising.canonical.nature == "ridge"
    assert still.canonical.ridge == "stationary" and rising.canonical.ridge == "rising"
    still_note = next(n for n in still.notes if "ridge" in n)
    rising_note = next(n for n in rising.notes if "ridge" in n)
    assert still_note.startswith("stationary ridge") and "nearly the same response" in still_note
    assert "(time +0.71, temp +0.71)" in still_note
    assert rising_note.startswith("rising ridge") and "keeps rising" in rising_note
    assert "nearly the same response" not in rising_note
    fitted = SweepAnalysis("ccd", 13, 0, rising).best_fitted()
    assert fitted is not None and "rising ridge" in fitted[2]
