"""Sequential designs (fold-over, augmentation to a CCD) and several responses.

References: Montgomery, *Design and Analysis of Experiments*, 9th ed.
(section 8.6 fold-over; section 11.4 CCD in blocks); Derringer and Suich
(1980) as in Myers, Montgomery and Anderson-Cook, *Response Surface
Methodology*, 4th ed., section 6.6.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pydoe
import pytest

from libs.doe import (
    AugmentToCCD,
    ContinuousFactor,
    FactorSpace,
    FoldOver,
    FractionalFactorial,
    FullFactorial,
    analyse,
    generate_design,
)
from libs.doe.desirability import Desirability, overall_desirability, pareto_front
from libs.doe.sequential import augment_to_ccd, axial_distance, fold_over
from libs.doe.structure import fraction_structure
from libs.errors import InputError

NAMES = list("ABCDEFG")


def coded(matrix: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(matrix, columns=NAMES[: matrix.shape[1]])


def test_full_fold_over_of_a_resolution_iii_fraction_is_resolution_iv() -> None:
    """Montgomery section 8.6.2: folding the 2^(7-4)_III over gives a 2^(7-3)_IV."""
    # given
    first = coded(pydoe.fracfact("a b c ab ac bc abc"))
    # when
    stage = fold_over(first)
    # then: 8 new runs, and the 16 combined runs have no word of length 3 left
    assert len(stage.added) == 8 and len(stage.combined) == 16
    assert stage.combined["block"].tolist() == [1] * 8 + [2] * 8
    structure = fraction_structure(stage.combined[NAMES].to_numpy())
    assert structure is not None and structure.regular
    assert structure.resolution == 4
    assert all(len(w.letters) % 2 == 0 for w in structure.words)


def test_fold_over_on_one_factor_frees_it_from_two_factor_interactions() -> None:
    """Montgomery section 8.6.2: a single-factor fold-over de-aliases that factor."""
    # given: D = AB, E = AC, F = BC, G = ABC
    first = coded(pydoe.fracfact("a b c ab ac bc abc"))
    # when
    stage = fold_over(first, "D")
    # then: no word of the combined defining relation contains D
    structure = fraction_structure(stage.combined[NAMES].to_numpy())
    assert structure is not None
    assert all("D" not in w.letters for w in structure.words)
    assert structure.resolution == 3  # the other main effects stay aliased


def test_fold_over_names_an_unknown_factor() -> None:
    with pytest.raises(InputError, match="'Z' is not a factor"):
        fold_over(coded(pydoe.ff2n(2)), "Z")


def test_augmenting_a_factorial_with_centre_points_gives_an_orthogonally_blocked_ccd() -> None:
    """Montgomery section 11.4.2: for k = 2 with 3 centre runs per block, alpha = sqrt(2)."""
    # given: a 2^2 with 3 centre points
    first = coded(np.vstack([pydoe.ff2n(2), np.zeros((3, 2))]))
    # when
    stage = augment_to_ccd(first, alpha="orthogonal", center_points=3)
    # then: 4 axial runs at +-sqrt(2) and 3 centre runs in block 2 (14 runs in all)
    assert len(stage.combined) == 14
    axial = stage.added[(stage.added != 0).any(axis=1)]
    assert len(axial) == 4
    assert np.allclose(np.abs(axial.to_numpy()).max(axis=1), math.sqrt(2))
    assert stage.combined["block"].value_counts().to_dict() == {1: 7, 2: 7}


def test_orthogonal_axial_distance_matches_pydoe_for_the_same_centre_split() -> None:
    # given: pyDOE's own orthogonal CCD for 3 factors with centre points (2, 4)
    reference = pydoe.ccdesign(3, center=(2, 4), alpha="orthogonal")
    # when
    alpha = axial_distance(3, 8, 2, 4, "orthogonal")
    # then
    assert alpha == pytest.approx(np.abs(reference).max())
    assert axial_distance(3, 8, 0, 0, "rotatable") == pytest.approx(8**0.25)


def test_augmentation_refuses_a_first_stage_that_is_not_two_level() -> None:
    with pytest.raises(InputError, match="two-level"):
        augment_to_ccd(coded(pydoe.bbdesign(3)))


def test_derringer_suich_one_sided_and_target_desirabilities() -> None:
    """Myers, Montgomery and Anderson-Cook section 6.6, the d_i of eq. 6.17-6.19."""
    # given
    up = Desirability(goal="maximize", low=0.8, high=1.0)
    down = Desirability(goal="minimize", low=1.0, high=5.0, shape=2)
    aim = Desirability(goal="target", low=60, high=75, target=65)
    # then
    assert up([0.7, 0.9, 1.2]).tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert down([0.5, 3.0, 6.0]).tolist() == pytest.approx([1.0, 0.25, 0.0])
    assert aim([62.5, 65, 70, 80]).tolist() == pytest.approx([0.5, 1.0, 0.5, 0.0])


def test_overall_desirability_is_the_weighted_geometric_mean() -> None:
    # given
    specs = {
        "accuracy": Desirability(goal="maximize", low=0.8, high=1.0, weight=2),
        "train_time_s": Desirability(goal="minimize", low=0.0, high=10.0),
    }
    responses = {"accuracy": [0.9, 1.0, 0.7], "train_time_s": [5.0, 10.0, 1.0]}
    # when
    d = overall_desirability(responses, specs)
    # then: (0.5^2 * 0.5)^(1/3); one unacceptable response makes the run unacceptable
    assert d.tolist() == pytest.approx([0.5, 0.0, 0.0])


def test_pareto_front_marks_the_non_dominated_runs() -> None:
    # given: accuracy (max) against training time (min); run 2 is dominated by run 0
    table = [[0.95, 3.0], [0.90, 1.0], [0.93, 4.0], [0.97, 8.0], [np.nan, 0.1]]
    # when
    front = pareto_front(table, [True, False])
    # then
    assert front.tolist() == [True, True, False, True, False]


def seven_factors() -> FactorSpace:
    return FactorSpace(factors=[ContinuousFactor(name=f"x{i}", low=0, high=1) for i in range(7)])


def test_fold_over_design_reruns_stage_one_as_it_ran_and_adds_block_two() -> None:
    # given
    first = FractionalFactorial(generator="a b c ab ac bc abc", seed=5)
    # when
    alone = generate_design(seven_factors(), first)
    both = generate_design(seven_factors(), FoldOver(first=first, seed=9))
    # then: stage 1's points first and unchanged (a sweep reuses them), then its mirror
    assert both.points[:8] == alone.points
    assert both.block == (1,) * 8 + (2,) * 8
    assert both.resolution == 4 and both.metadata()["resolution"] == "IV"
    assert "full fold-over" in both.notes[0]
    mirrored = {tuple(-v for v in row) for row in alone.coded.itertuples(index=False)}
    assert {tuple(row) for row in both.coded.iloc[8:].itertuples(index=False)} == mirrored


def test_fold_over_on_a_factor_letter() -> None:
    # when
    design = generate_design(
        seven_factors(), FoldOver(first=FractionalFactorial(resolution=3), factor="d")
    )
    # then: D (x3) is reversed in block 2, the other columns repeat
    first, second = design.coded.iloc[:8], design.coded.iloc[8:]
    assert set(map(tuple, (-second["x3"]).to_frame().to_numpy())) <= set(
        map(tuple, first["x3"].to_frame().to_numpy())
    )
    with pytest.raises(InputError, match="neither a factor nor a factor letter"):
        generate_design(
            seven_factors(), FoldOver(first=FractionalFactorial(resolution=3), factor="Q")
        )


def test_augmenting_needs_a_first_stage_of_resolution_v() -> None:
    # given
    space = FactorSpace(factors=[ContinuousFactor(name=f"x{i}", low=0, high=1) for i in range(3)])
    # when
    ccd = generate_design(space, AugmentToCCD(first=FullFactorial(center_points=3)))
    # then: 8 + 3 runs, then 6 axial and 3 centre runs in block 2
    assert len(ccd) == 20 and ccd.block.count(2) == 9
    assert ccd.center_points == 6
    with pytest.raises(InputError, match="resolution III"):
        generate_design(space, AugmentToCCD(first=FractionalFactorial(generator="a b ab")))


def test_analysis_of_a_fold_over_separates_stages_and_de_aliases_main_effects() -> None:
    """Montgomery section 8.6: after a full fold-over, main effects are free of 2FIs."""
    # given: y = 10 + 3 A - 2 D + 1.5 AB, and stage 2 runs 5 units higher (a block shift)
    space = seven_factors()
    design = generate_design(
        space, FoldOver(first=FractionalFactorial(generator="a b c ab ac bc abc"))
    )
    x = design.coded.to_numpy()
    stage = np.array(design.block)
    y = 10 + 3 * x[:, 0] - 2 * x[:, 3] + 1.5 * x[:, 0] * x[:, 1] + 5 * (stage == 2)
    # when
    result = analyse(design.coded, y, space, block=list(design.block))
    # then: the main effects come out clean (2 x coefficient), the block shift is not an effect
    effects = result.effects.set_index("term")["effect"]
    assert effects["A"] == pytest.approx(6.0)
    assert effects["D"] == pytest.approx(-4.0)
    assert effects["B"] == pytest.approx(0.0, abs=1e-9)
    assert "Block" not in effects.index
    assert result.resolution == 4
    assert any("block" in note for note in result.notes)
