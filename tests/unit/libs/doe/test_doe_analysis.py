"""Effects, ANOVA and response surfaces, checked against Montgomery's Example 6.1."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from libs.doe import (
    CategoricalFactor,
    CentralComposite,
    ContinuousFactor,
    FactorSpace,
    FractionalFactorial,
    FullFactorial,
    PlackettBurman,
    analyse,
    anova_table,
    generate_design,
    interaction_effects,
    main_effects,
    response_surface,
)
from libs.errors import InputError

A, B = "process.concentration", "process.catalyst"


def montgomery_6_1() -> tuple[pd.DataFrame, list[float]]:
    """Montgomery, Design and Analysis of Experiments, Example 6.1 (chemical yield).

    A 2^2 factorial, reactant concentration A and catalyst amount B, three
    replicates. Treatment totals: (1) = 80, a = 100, b = 60, ab = 90.
    """
    runs = {
        (-1, -1): [28, 25, 27],  # (1)
        (1, -1): [36, 32, 32],  # a
        (-1, 1): [18, 19, 23],  # b
        (1, 1): [31, 30, 29],  # ab
    }
    rows, y = [], []
    for (a, b), observations in runs.items():
        for obs in observations:
            rows.append({A: a, B: b})
            y.append(float(obs))
    return pd.DataFrame(rows, dtype=float), y


# --- effects ----------------------------------------------------------------


def test_main_effects_match_montgomery_example_6_1() -> None:
    # given
    coded, y = montgomery_6_1()
    # when
    effects = main_effects(coded, y)
    # then: A = 8.33, B = -5.00
    assert effects.round(2).to_dict() == {A: 8.33, B: -5.00}


def test_interaction_effect_matches_montgomery_example_6_1() -> None:
    # given
    coded, y = montgomery_6_1()
    # when
    effects = interaction_effects(coded, y)
    # then: AB = 1.67
    assert effects.round(2).to_dict() == {f"{A}:{B}": 1.67}


def test_main_effects_ignore_centre_points() -> None:
    # given: the Montgomery runs plus two centre points with an extreme response
    coded, y = montgomery_6_1()
    coded = pd.concat([coded, pd.DataFrame({A: [0.0, 0.0], B: [0.0, 0.0]})], ignore_index=True)
    y = [*y, 1000.0, 1000.0]
    # when
    effects = main_effects(coded, pd.Series(y, index=range(100, 114)))
    # then
    assert effects.round(2).to_dict() == {A: 8.33, B: -5.00}


def test_aliased_interactions_share_one_estimate_in_a_half_fraction() -> None:
    # given: 2^(4-1) with D = ABC, so AB is aliased with CD
    space = FactorSpace(
        factors=[ContinuousFactor(name=n, low=0, high=1) for n in ("a", "b", "c", "d")]
    )
    coded = generate_design(space, FractionalFactorial(generator="a b c abc")).coded
    y = np.random.default_rng(1).normal(size=len(coded))
    # when
    effects = interaction_effects(coded, y)
    # then
    assert effects["a:b"] == pytest.approx(effects["c:d"])
    assert effects["a:c"] == pytest.approx(effects["b:d"])
    assert effects["a:b"] != pytest.approx(effects["a:c"])


def test_main_effects_need_columns_at_minus_one_and_plus_one() -> None:
    # given: a space-filling design has no runs exactly at +-1
    coded = pd.DataFrame({"a": [-0.8, -0.1, 0.3, 0.7], "b": [0.5, -0.6, 0.9, -0.2]})
    # when / then
    with pytest.raises(InputError, match="no column has runs at both -1 and \\+1"):
        main_effects(coded, [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([1.0, 2.0, 3.0], "y: 3 responses for 12 design rows"),
        ([1.0] * 11 + [float("nan")], r"y: responses must be finite numbers; rows \[11\]"),
        ([1.0] * 10 + [float("inf"), 2.0], r"rows \[10\]"),
    ],
)
def test_bad_responses_are_rejected(y: list[float], message: str) -> None:
    # given
    coded, _ = montgomery_6_1()
    # when / then
    for helper in (main_effects, interaction_effects, anova_table):
        with pytest.raises(InputError, match=message):
            helper(coded, y)


def test_constant_or_non_numeric_columns_are_rejected() -> None:
    # given
    coded, y = montgomery_6_1()
    constant = coded.assign(**{"model.seed": 1.0})
    text = coded.assign(solver="lbfgs")
    # when / then
    with pytest.raises(InputError, match=r"coded column 'model\.seed' is constant"):
        main_effects(constant, y)
    with pytest.raises(InputError, match="coded column 'solver' is not numeric"):
        anova_table(text, y)


def test_interactions_need_two_factors() -> None:
    # given
    coded = pd.DataFrame({"a": [-1.0, 1.0, -1.0, 1.0]})
    # when / then
    with pytest.raises(InputError, match="at least two factors"):
        interaction_effects(coded, [1.0, 2.0, 3.0, 4.0])


# --- ANOVA ------------------------------------------------------------------


def test_anova_matches_montgomery_example_6_1() -> None:
    # given
    coded, y = montgomery_6_1()
    # when
    table = anova_table(coded, y)
    # then: Montgomery's Table 6.2; his F values use MS_E rounded to 3.92,
    # hence the 0.05 tolerance on F (exact: 53.19, 19.15, 2.13).
    assert table.loc[A, "sum_sq"] == pytest.approx(208.33, abs=0.01)
    assert table.loc[B, "sum_sq"] == pytest.approx(75.00, abs=0.01)
    assert table.loc[f"{A}:{B}", "sum_sq"] == pytest.approx(8.33, abs=0.01)
    assert table.loc["Residual", "sum_sq"] == pytest.approx(31.34, abs=0.01)
    assert table.loc["Residual", "df"] == 8
    assert table.loc[A, "F"] == pytest.approx(53.19, abs=0.05)
    assert table.loc[B, "F"] == pytest.approx(19.13, abs=0.05)
    assert table.loc[f"{A}:{B}", "F"] == pytest.approx(2.13, abs=0.05)
    assert table.loc[A, "PR(>F)"] == pytest.approx(0.0001, abs=0.00005)
    assert table.loc[B, "PR(>F)"] == pytest.approx(0.0024, abs=0.00005)
    assert table.loc[f"{A}:{B}", "PR(>F)"] == pytest.approx(0.1826, abs=0.0005)
    assert table.attrs["interactions"] is True
    assert table.attrs["note"] == ""


def test_anova_without_interactions_pools_them_into_the_residual() -> None:
    # given
    coded, y = montgomery_6_1()
    # when
    table = anova_table(coded, y, interactions=False)
    # then: SS_E + SS_AB = 31.33 + 8.33 on 9 degrees of freedom
    assert list(table.index) == [A, B, "Residual"]
    assert table.loc["Residual", "sum_sq"] == pytest.approx(39.67, abs=0.01)
    assert table.loc["Residual", "df"] == 9


def test_saturated_fraction_is_not_pooled_into_error() -> None:
    """2^(4-1), D = ABC: 8 runs; a, b, c, d and the three chains AB=CD, AC=BD, AD=BC
    saturate it. The old analysis dropped the interactions into the residual
    untested; now the aliased copies are dropped and the saturated model is refused.
    """
    # given
    space = FactorSpace(
        factors=[ContinuousFactor(name=n, low=0, high=1) for n in ("a", "b", "c", "d")]
    )
    coded = generate_design(space, FractionalFactorial(generator="a b c abc")).coded
    y = np.random.default_rng(2).normal(size=len(coded))
    # when / then
    with pytest.raises(InputError, match="no residual degrees of freedom for 7 estimable"):
        anova_table(coded, y)
    # and: without interactions the 4 main effects leave 3 residual df
    table = anova_table(coded, y, interactions=False)
    assert list(table.index) == ["a", "b", "c", "d", "Residual"]
    assert table.loc["Residual", "df"] == 3


def test_aliased_interactions_are_dropped_with_a_note() -> None:
    # given: the 2^(4-1) replicated twice, so the 7 chains leave 8 df of pure error
    space = FactorSpace(
        factors=[ContinuousFactor(name=n, low=0, high=1) for n in ("a", "b", "c", "d")]
    )
    coded = generate_design(space, FractionalFactorial(generator="a b c abc")).coded
    coded = pd.concat([coded, coded], ignore_index=True)
    y = np.random.default_rng(2).normal(size=len(coded))
    # when
    table = anova_table(coded, y)
    # then: one term per chain, the copies named in the note
    assert list(table.index) == ["a", "b", "c", "d", "a:b", "a:c", "a:d", "Residual"]
    assert table.loc["Residual", "df"] == 8
    assert "b:c" in table.attrs["note"] and "c:d" in table.attrs["note"]


def test_unreplicated_two_cubed_keeps_interactions_with_one_residual_df() -> None:
    # given: 8 runs, 1 + 3 + 3 terms
    space = FactorSpace(factors=[ContinuousFactor(name=n, low=0, high=1) for n in "abc"])
    coded = generate_design(space, FullFactorial()).coded
    y = np.random.default_rng(3).normal(size=len(coded))
    # when
    table = anova_table(coded, y)
    # then
    assert table.attrs["interactions"] is True
    assert table.loc["Residual", "df"] == 1


def test_saturated_main_effects_design_has_nothing_to_test() -> None:
    # given: Plackett-Burman with 7 factors in 8 runs
    space = FactorSpace(factors=[ContinuousFactor(name=f"f{i}", low=0, high=1) for i in range(7)])
    coded = generate_design(space, PlackettBurman()).coded
    y = np.random.default_rng(4).normal(size=len(coded))
    # when / then
    with pytest.raises(InputError, match="8 runs leave no residual degrees of freedom for 7"):
        anova_table(coded, y)


# --- response surface -------------------------------------------------------


def surface_space() -> FactorSpace:
    return FactorSpace(
        factors=[
            ContinuousFactor(name="model.params.alpha", low=0, high=10),
            ContinuousFactor(name="model.params.C", low=0.01, high=1, scale="log"),
        ]
    )


def quadratic(coded: pd.DataFrame, sign: float = -1.0) -> np.ndarray:
    x1, x2 = coded["model.params.alpha"], coded["model.params.C"]
    return sign * ((x1 - 0.3) ** 2 + (x2 + 0.2) ** 2)


def test_response_surface_recovers_a_known_maximum() -> None:
    # given: noise-free y = -(x1 - 0.3)^2 - (x2 + 0.2)^2 on a CCD
    space = surface_space()
    coded = generate_design(space, CentralComposite()).coded
    # when
    surface = response_surface(coded, quadratic(coded), space, maximize=True)
    # then
    assert surface.optimum_coded["model.params.alpha"] == pytest.approx(0.3, abs=1e-3)
    assert surface.optimum_coded["model.params.C"] == pytest.approx(-0.2, abs=1e-3)
    assert surface.optimum["model.params.alpha"] == pytest.approx(5 + 0.3 * 5, abs=5e-3)
    assert math.log10(surface.optimum["model.params.C"]) == pytest.approx(-1.2, abs=1e-3)
    assert surface.predicted_optimum == pytest.approx(0.0, abs=1e-6)
    assert surface.r_squared == pytest.approx(1.0)
    assert surface.adj_r_squared == pytest.approx(1.0)
    assert surface.coefficients["model.params.alpha^2"] == pytest.approx(-1.0)
    assert surface.coefficients["model.params.alpha:model.params.C"] == pytest.approx(0.0, abs=1e-9)


def test_response_surface_minimises_when_asked() -> None:
    # given
    space = surface_space()
    coded = generate_design(space, CentralComposite(face="faced")).coded
    # when
    surface = response_surface(coded, quadratic(coded, sign=1.0), space, maximize=False)
    # then
    assert surface.optimum_coded == pytest.approx(
        {"model.params.alpha": 0.3, "model.params.C": -0.2}, abs=1e-3
    )


def test_response_surface_optimum_stays_inside_the_design_region() -> None:
    """A rotatable CCD supports a sphere of radius alpha (Montgomery 9th ed. section
    11.4.1), the region `analyse` searches too: the best point toward an outside
    maximum lies on that sphere, in the maximum's direction."""
    # given: the unconstrained maximum (2, -3) lies outside the sphere of radius sqrt(2)
    space = surface_space()
    coded = generate_design(space, CentralComposite()).coded
    x1, x2 = coded["model.params.alpha"], coded["model.params.C"]
    y = -((x1 - 2) ** 2) - (x2 + 3) ** 2
    # when
    surface = response_surface(coded, y, space)
    # then
    alpha = float(np.abs(coded.to_numpy()).max())
    expected = np.array([2.0, -3.0]) / math.sqrt(13) * alpha
    got = np.array([surface.optimum_coded[n] for n in coded.columns])
    assert got == pytest.approx(expected, abs=1e-4)
    assert surface.on_boundary
    assert surface.optimum["model.params.alpha"] == pytest.approx(5 + 5 * expected[0], abs=1e-3)
    # and: analyse finds the same point on the same data
    canon = analyse(coded, y, space).canonical
    assert canon is not None and canon.best == pytest.approx(got, abs=1e-4)


def test_response_surface_optimum_stays_inside_a_faced_cube() -> None:
    # given: a face-centred CCD supports the cube [-1, 1]^2
    space = surface_space()
    coded = generate_design(space, CentralComposite(face="faced")).coded
    x1, x2 = coded["model.params.alpha"], coded["model.params.C"]
    y = -((x1 - 2) ** 2) - (x2 + 3) ** 2
    # when
    surface = response_surface(coded, y, space)
    # then
    assert surface.optimum_coded == pytest.approx(
        {"model.params.alpha": 1.0, "model.params.C": -1.0}, abs=1e-6
    )
    assert surface.optimum["model.params.alpha"] == pytest.approx(10.0)


def test_response_surface_r_squared_is_below_one_with_noise() -> None:
    # given
    space = surface_space()
    coded = generate_design(
        space,
        CentralComposite(),
    ).coded
    y = quadratic(coded) + np.random.default_rng(5).normal(scale=0.1, size=len(coded))
    # when
    surface = response_surface(coded, y, space)
    fitted = surface.predict(coded)
    # then: R^2 agrees with the fitted values, and adjusted R^2 penalises the 6 terms
    r2 = 1 - np.sum((y - fitted) ** 2) / np.sum((y - np.mean(y)) ** 2)
    assert surface.r_squared == pytest.approx(r2)
    assert surface.r_squared < 1.0
    assert surface.adj_r_squared < surface.r_squared


def test_response_surface_needs_three_levels_per_factor() -> None:
    # given: a two-level factorial cannot estimate squared terms
    space = surface_space()
    coded = generate_design(space, FullFactorial(levels=2)).coded
    # when / then
    with pytest.raises(
        InputError, match=r"'model\.params\.alpha' has fewer than 3 distinct levels"
    ):
        response_surface(coded, np.arange(len(coded), dtype=float), space)


def test_response_surface_needs_more_runs_than_terms() -> None:
    # given: 6 of the 9 runs of a 3^2 factorial, still 3 levels per factor, for 6 terms
    space = surface_space()
    coded = generate_design(space, FullFactorial(levels=3)).coded.iloc[[0, 1, 2, 3, 4, 6]]
    # when / then
    with pytest.raises(InputError, match="has 6 terms and needs more runs than that; got 6"):
        response_surface(coded, np.arange(6, dtype=float), space)


def test_response_surface_rejects_categorical_and_unknown_factors() -> None:
    # given
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="a", low=0, high=1),
            CategoricalFactor(name="k", levels=["x", "y", "z"]),
        ]
    )
    coded = generate_design(space, FullFactorial(levels=3)).coded
    y = np.arange(len(coded), dtype=float)
    # when / then
    with pytest.raises(InputError, match="factor 'k' is categorical"):
        response_surface(coded, y, space)
    with pytest.raises(InputError, match="not in the factor space: b"):
        response_surface(coded.rename(columns={"k": "b"}), y, space)


def test_response_surface_names_a_saddle_and_its_boundary_point() -> None:
    # given: y = a^2 - b^2 (a saddle at the centre) on a face-centred CCD
    space = FactorSpace(factors=[ContinuousFactor(name=n, low=0, high=1) for n in "ab"])
    coded = generate_design(space, CentralComposite(face="faced")).coded
    y = coded["a"] ** 2 - coded["b"] ** 2 + np.random.default_rng(0).normal(0, 0.01, len(coded))
    # when
    surface = response_surface(coded, y, space, maximize=True)
    # then: the best point in the box is on its edge, and the surface is a saddle
    assert surface.nature == "saddle" and surface.on_boundary


def test_public_face_of_the_analysis_is_pinned() -> None:
    import libs.doe

    expected = {"analyse", "DoeAnalysis", "AliasStructure", "Lenth", "Canonical", "AnovaResult"}
    assert expected <= set(libs.doe.__all__)
    assert all(hasattr(libs.doe, name) for name in libs.doe.__all__)
