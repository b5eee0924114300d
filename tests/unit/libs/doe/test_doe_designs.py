"""Design generation: textbook run counts, coded -> real mapping, duplicates, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from libs.doe import (
    BoxBehnken,
    CategoricalFactor,
    CentralComposite,
    ContinuousFactor,
    DesignSpec,
    FactorSpace,
    FractionalFactorial,
    FullFactorial,
    IntegerFactor,
    LatinHypercube,
    PlackettBurman,
    generate_design,
)
from libs.errors import InputError

SPEC = TypeAdapter(DesignSpec)


def continuous_space(k: int) -> FactorSpace:
    return FactorSpace(
        factors=[ContinuousFactor(name=f"model.params.x{i}", low=0, high=1) for i in range(k)]
    )


# --- run counts (textbook sizes) -------------------------------------------


@pytest.mark.parametrize(
    ("k", "spec", "runs"),
    [
        (3, FullFactorial(levels=2), 8),  # 2^3
        (2, FullFactorial(levels=3), 9),  # 3^2
        (4, FractionalFactorial(generator="a b c abc"), 8),  # 2^(4-1)
        (5, FractionalFactorial(resolution=5), 16),  # 2^(5-1)_V
        (7, FractionalFactorial(resolution=3), 8),  # 2^(7-4)_III, saturated
        (4, FractionalFactorial(resolution=4), 8),  # 2^(4-1)_IV
        (5, PlackettBurman(), 8),
        (8, PlackettBurman(), 12),
        (11, PlackettBurman(), 12),
        (3, BoxBehnken(), 15),  # 12 edge midpoints + 3 centre points (pyDOE default)
        (4, BoxBehnken(), 27),  # 24 + 3
        (3, BoxBehnken(center_points=1), 13),
        # Montgomery (9th ed.) Example 11.2: a rotatable CCD in 2 factors, 13 runs
        # with 5 centre points; Table 11.11's uniform precision: 20 runs for k = 3.
        (2, CentralComposite(), 13),
        (3, CentralComposite(), 20),
        (2, FullFactorial(center_points=4), 8),
        (3, FractionalFactorial(generator="a b ab", replicates=2), 8),
        (3, CentralComposite(center_points=(1, 1)), 8 + 6 + 2),
        (3, LatinHypercube(samples=11), 11),
    ],
)
def test_requested_runs_match_textbook_counts(k: int, spec: DesignSpec, runs: int) -> None:
    # given
    space = continuous_space(k)
    # when: duplicates are kept, so every row pyDOE produced is a run
    design = generate_design(space, spec.model_copy(update={"drop_duplicates": False}))
    # then
    assert design.requested_runs == runs
    assert len(design) == runs
    assert design.coded.shape == (runs, k)
    assert list(design.coded.columns) == space.names


def test_two_level_designs_are_balanced_and_orthogonal() -> None:
    # given
    space = continuous_space(4)
    # when
    design = generate_design(space, FractionalFactorial(generator="a b c abc"))
    # then: each column has four -1 and four +1, and columns are orthogonal
    x = design.coded.to_numpy()
    assert set(np.unique(x)) == {-1.0, 1.0}
    np.testing.assert_array_equal(x.T @ x, 8 * np.eye(4))


def test_generator_defines_the_fourth_column_as_the_product() -> None:
    # given
    space = continuous_space(4)
    # when
    x = generate_design(space, FractionalFactorial(generator="a b c abc")).coded.to_numpy()
    # then: D = ABC, the defining relation I = ABCD
    np.testing.assert_array_equal(x[:, 3], x[:, 0] * x[:, 1] * x[:, 2])


def test_centre_point_replicates_are_kept_and_numbered() -> None:
    # given: Box-Behnken for 3 factors, 15 runs with 3 centre points (Montgomery Table 11.8)
    space = continuous_space(3)
    # when
    design = generate_design(space, BoxBehnken())
    # then: every centre point runs, each a replicate of the one before
    assert len(design) == 15
    assert design.center_points == 3
    assert design.duplicates_removed == 0
    centre = [i for i, row in design.coded.iterrows() if (row == 0).all()]
    assert sorted(design.replicate[i] for i in centre) == [0, 1, 2]
    assert sum(design.replicate) == 0 + 1 + 2


def test_drop_duplicates_collapses_centre_points_and_counts_them() -> None:
    # given
    space = continuous_space(3)
    # when
    design = generate_design(space, BoxBehnken(drop_duplicates=True))
    # then: 15 rows requested, the 2 repeated centre points dropped
    assert design.requested_runs == 15
    assert design.duplicates_removed == 2
    assert len(design) == 13
    assert len({tuple(p.values()) for p in design.points}) == 13


def test_points_that_round_to_the_same_integer_are_removed_keeping_the_first() -> None:
    # given: 5 levels of an integer factor that only has 3 values
    space = FactorSpace(factors=[IntegerFactor(name="depth", low=1, high=3)])
    spec = FullFactorial(levels=5, drop_duplicates=True, run_order="standard")
    # when
    design = generate_design(space, spec)
    # then: coded -1, -.5, 0, .5, 1 -> 1, 2 (1.5 up), 2, 3 (2.5 up), 3
    assert [p["depth"] for p in design.points] == [1, 2, 3]
    assert design.duplicates_removed == 2
    assert design.coded["depth"].tolist() == [-1.0, 0.0, 1.0]


def test_run_order_is_shuffled_with_the_seed_and_standard_on_request() -> None:
    # given
    space = continuous_space(3)
    spec = FullFactorial(seed=3)
    # when
    first, again = generate_design(space, spec), generate_design(space, spec)
    other = generate_design(space, spec.model_copy(update={"seed": 4}))
    standard = generate_design(space, spec.model_copy(update={"run_order": "standard"}))
    # then: reproducible, seed-dependent, a permutation of the Yates order
    assert first.points == again.points
    assert first.standard_order != other.standard_order
    assert sorted(first.standard_order) == list(range(8))
    assert standard.standard_order == tuple(range(8))
    for row, std in enumerate(first.standard_order):
        assert first.points[row] == standard.points[std]


def test_two_level_designs_take_centre_points_but_not_with_a_categorical_factor() -> None:
    # given
    space = continuous_space(3)
    mixed = FactorSpace(
        factors=[
            ContinuousFactor(name="a", low=0, high=1),
            CategoricalFactor(name="k", levels=["x", "y"]),
        ]
    )
    # when
    design = generate_design(space, FractionalFactorial(generator="a b ab", center_points=3))
    # then
    assert len(design) == 7
    assert design.center_points == 3
    assert design.defining_relation == "I = ABC"  # centre points do not change the fraction
    with pytest.raises(InputError, match=r"center_points: factor 'k' is categorical"):
        generate_design(mixed, FullFactorial(center_points=2))


# --- coded -> real ----------------------------------------------------------


def test_full_factorial_maps_levels_for_linear_log_integer_and_categorical() -> None:
    # given
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="a", low=0, high=10),
            ContinuousFactor(name="C", low=0.01, high=100, scale="log"),
            IntegerFactor(name="n", low=10, high=20),
            CategoricalFactor(name="solver", levels=["lbfgs", "saga", "sag"]),
        ]
    )
    # when
    design = generate_design(space, FullFactorial(levels=3))
    frame = design.frame
    # then
    assert len(design) == 3 * 3 * 3 * 3
    assert sorted(frame["a"].unique()) == pytest.approx([0.0, 5.0, 10.0])
    assert sorted(frame["C"].unique()) == pytest.approx([0.01, 1.0, 100.0])
    assert sorted(frame["n"].unique()) == [10, 15, 20]
    assert set(frame["solver"]) == {"lbfgs", "saga", "sag"}


def test_full_factorial_levels_can_be_set_per_factor() -> None:
    # given
    space = continuous_space(2)
    # when
    design = generate_design(space, FullFactorial(levels={"model.params.x0": 4}))
    # then: 4 levels of x0 times the default 2 of x1
    assert len(design) == 8
    assert sorted(design.frame["model.params.x0"].unique()) == pytest.approx([0, 1 / 3, 2 / 3, 1])


def test_two_level_design_maps_categorical_to_its_first_two_levels() -> None:
    # given
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="a", low=1, high=3),
            CategoricalFactor(name="scale", levels=[False, True]),
            IntegerFactor(name="n", low=2, high=8),
        ]
    )
    # when
    design = generate_design(space, PlackettBurman())
    # then
    for point, (_, row) in zip(design.points, design.coded.iterrows(), strict=True):
        assert point["a"] == (1.0 if row["a"] == -1 else 3.0)
        assert point["scale"] is bool(row["scale"] == 1)
        assert point["n"] == (2 if row["n"] == -1 else 8)


def test_circumscribed_ccd_keeps_integer_axial_points_beyond_the_faces() -> None:
    # given
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="x", low=0, high=2),
            IntegerFactor(name="n", low=1, high=5),
        ]
    )
    # when
    design = generate_design(space, CentralComposite(alpha="rotatable"))
    frame = design.frame
    # then: the continuous axial points sit at 1 +- sqrt(2) (outside [0, 2]) ...
    assert frame["x"].min() == pytest.approx(1 - math.sqrt(2))
    assert frame["x"].max() == pytest.approx(1 + math.sqrt(2))
    # ... the integer ones at the nearest integers to 3 +- 2 sqrt(2), coded where they ran,
    # so the design stays a central composite and not a face-centred one
    assert sorted(frame["n"].unique()) == [0, 1, 3, 5, 6]
    assert design.coded["n"].abs().max() == pytest.approx(1.5)
    assert design.notes == ()


def test_ccd_says_when_an_integer_range_is_too_narrow_for_axial_points() -> None:
    # given: 1..3 has no integer beyond the faces within 2 +- 1.414
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="x", low=0, high=2),
            IntegerFactor(name="depth", low=1, high=3),
        ]
    )
    # when
    design = generate_design(space, CentralComposite())
    # then
    assert len(design.notes) == 1
    assert "'depth'" in design.notes[0] and "face: faced" in design.notes[0]


def test_faced_ccd_stays_within_bounds() -> None:
    # given
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="lr", low=1e-4, high=1e-1, scale="log"),
            ContinuousFactor(name="x", low=-1, high=1),
        ]
    )
    # when
    design = generate_design(space, CentralComposite(face="faced"))
    # then
    assert design.frame["lr"].between(1e-4 * (1 - 1e-9), 1e-1 * (1 + 1e-9)).all()
    assert design.coded.abs().to_numpy().max() == pytest.approx(1.0)
    assert len(design) == 13  # 3^2 points of a faced CCD, the centre run 5 times
    assert len({tuple(p.values()) for p in design.points}) == 9


def test_latin_hypercube_is_seeded_and_stratified() -> None:
    # given
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="a", low=0, high=10),
            CategoricalFactor(name="k", levels=["x", "y"]),
        ]
    )
    spec = LatinHypercube(samples=10, seed=7)
    # when
    first, second = generate_design(space, spec), generate_design(space, spec)
    other = generate_design(space, spec.model_copy(update={"seed": 8}))
    # then: same seed, same design; one sample per tenth of the range; levels split 5/5
    assert first.points == second.points
    assert first.points != other.points
    strata = sorted(int(p["a"]) for p in first.points)
    assert strata == list(range(10))
    assert sorted(p["k"] for p in first.points) == ["x"] * 5 + ["y"] * 5


def test_design_spec_is_chosen_by_kind() -> None:
    # given
    raw = {"kind": "central_composite", "face": "inscribed", "center_points": [1, 0]}
    # when
    spec = SPEC.validate_python(raw)
    # then
    assert isinstance(spec, CentralComposite)
    assert spec.center_points == (1, 0)


# --- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "fractional_factorial"}, "exactly one of generator or resolution"),
        (
            {"kind": "fractional_factorial", "generator": "a b ab", "resolution": 3},
            "exactly one of generator or resolution",
        ),
        ({"kind": "fractional_factorial", "resolution": 2}, "resolution"),
        ({"kind": "full_factorial", "levels": 1}, "levels"),
        ({"kind": "full_factorial", "levels": {"a": 1}}, "levels"),
        ({"kind": "latin_hypercube"}, "samples"),
        ({"kind": "latin_hypercube", "samples": 0}, "samples"),
        ({"kind": "central_composite", "face": "ccx"}, "face"),
        ({"kind": "central_composite", "alpha": "2"}, "alpha"),
        ({"kind": "box_behnken", "center_points": -1}, "center_points"),
        ({"kind": "taguchi"}, "kind"),
        ({"kind": "plackett_burman", "runs": 12}, "runs"),
    ],
)
def test_invalid_design_spec_fails_validation_naming_the_field(raw: dict, message: str) -> None:
    # given: a design spec with one problem
    # when / then
    with pytest.raises(ValidationError, match=message):
        SPEC.validate_python(raw)


def test_box_behnken_needs_three_factors() -> None:
    # given
    space = continuous_space(2)
    # when / then
    with pytest.raises(InputError, match="box_behnken needs at least 3 factors, the space has 2"):
        generate_design(space, BoxBehnken())


def test_central_composite_needs_two_factors() -> None:
    # given
    space = continuous_space(1)
    # when / then
    with pytest.raises(InputError, match="central_composite needs at least 2 factors"):
        generate_design(space, CentralComposite())


@pytest.mark.parametrize("spec", [BoxBehnken(), CentralComposite()])
def test_response_surface_designs_reject_categorical_factors(spec: DesignSpec) -> None:
    # given
    space = FactorSpace(
        factors=[
            *continuous_space(2).factors,
            CategoricalFactor(name="solver", levels=["a", "b"]),
        ]
    )
    # when / then
    with pytest.raises(InputError, match=f"factor 'solver': {spec.kind} needs numeric"):
        generate_design(space, spec)


@pytest.mark.parametrize(
    "spec",
    [PlackettBurman(), FractionalFactorial(generator="a b ab"), FractionalFactorial(resolution=3)],
)
def test_two_level_designs_reject_categoricals_with_more_than_two_levels(
    spec: DesignSpec,
) -> None:
    # given
    space = FactorSpace(
        factors=[
            *continuous_space(2).factors,
            CategoricalFactor(name="solver", levels=["a", "b", "c"]),
        ]
    )
    # when / then
    with pytest.raises(InputError, match=r"factor 'solver': .* two-level design .* 3 levels"):
        generate_design(space, spec)


@pytest.mark.parametrize(("generator", "words"), [("a b c", 3), ("a b c abc ab", 5)])
def test_generator_must_have_one_word_per_factor(generator: str, words: int) -> None:
    # given
    space = continuous_space(4)
    # when / then
    with pytest.raises(InputError, match=f"has {words} words but the space has 4 factors"):
        generate_design(space, FractionalFactorial(generator=generator))


@pytest.mark.parametrize("generator", ["a b c abd", "a a b c", "a b 1 c"])
def test_generator_that_pydoe_rejects_becomes_an_input_error(generator: str) -> None:
    # given
    space = continuous_space(4)
    # when / then
    with pytest.raises(InputError, match=r"fractional_factorial\.generator: "):
        generate_design(space, FractionalFactorial(generator=generator))


def test_resolution_needs_two_factors() -> None:
    # given
    space = continuous_space(1)
    # when / then
    with pytest.raises(InputError, match="resolution needs at least 2 factors"):
        generate_design(space, FractionalFactorial(resolution=3))


def test_per_factor_levels_must_name_known_numeric_factors() -> None:
    # given
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="a", low=0, high=1),
            CategoricalFactor(name="k", levels=["x", "y"]),
        ]
    )
    # when / then
    with pytest.raises(InputError, match="unknown factors: b"):
        generate_design(space, FullFactorial(levels={"b": 3}))
    with pytest.raises(InputError, match="factor 'k' is categorical and always uses all"):
        generate_design(space, FullFactorial(levels={"k": 3}))
