"""Design metadata: generators, defining relation, resolution, replicates, integer levels.

Textbook references: Montgomery, *Design and Analysis of Experiments*, 9th ed.
(chapter 8: two-level fractional factorials) and Box, Hunter and Hunter,
*Statistics for Experimenters*, 2nd ed. (chapter 6).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pydoe
import pytest

from libs.doe import (
    ContinuousFactor,
    FactorSpace,
    FractionalFactorial,
    FullFactorial,
    IntegerFactor,
    LatinHypercube,
    PlackettBurman,
    generate_design,
)
from libs.doe.aliasing import factor_letters
from libs.doe.structure import fraction_structure, roman


def space(k: int) -> FactorSpace:
    return FactorSpace(factors=[ContinuousFactor(name=f"x{i}", low=0, high=1) for i in range(k)])


def test_half_fraction_of_four_factors_is_resolution_iv() -> None:
    """Montgomery Example 8.1: the 2^(4-1) with D = ABC has I = ABCD, resolution IV."""
    # when
    design = generate_design(space(4), FractionalFactorial(generator="a b c abc"))
    # then
    assert design.generators == ("D = ABC",)
    assert design.defining_relation == "I = ABCD"
    assert design.resolution == 4
    assert design.metadata()["resolution"] == "IV"
    assert design.letters == {"x0": "A", "x1": "B", "x2": "C", "x3": "D"}


def test_saturated_seven_factor_fraction_has_the_textbook_defining_relation() -> None:
    """Montgomery section 8.5 (Table 8.19): the 2^(7-4)_III with D=AB, E=AC, F=BC, G=ABC."""
    # when
    design = generate_design(space(7), FractionalFactorial(generator="a b c ab ac bc abc"))
    # then: 2^4 = 16 words (with I), the shortest of length 3
    assert design.generators == ("D = AB", "E = AC", "F = BC", "G = ABC")
    words = design.defining_relation.split(" = ")
    assert words[0] == "I" and len(words) == 16
    assert {"ABD", "ACE", "BCF", "ABCG", "ABCDEFG"} <= set(words)
    assert design.resolution == 3


def test_sixteen_run_quarter_fraction_of_six_factors_is_resolution_iv() -> None:
    """Montgomery Example 8.4: the 2^(6-2)_IV with E = ABC, F = BCD."""
    # when
    design = generate_design(space(6), FractionalFactorial(generator="a b c d abc bcd"))
    # then
    assert design.generators == ("E = ABC", "F = BCD")
    assert design.defining_relation == "I = ABCE = ADEF = BCDF"
    assert design.resolution == 4


def test_structure_is_read_from_the_matrix_when_pydoe_picks_the_generators() -> None:
    # given: fracfact_by_res returns a matrix and no generator string
    matrix = pydoe.fracfact_by_res(5, 5)
    # when
    structure = fraction_structure(matrix)
    # then: a 2^(5-1) of resolution V, I = ABCDE up to sign
    assert structure is not None and structure.regular
    assert len(matrix) == 16
    assert structure.resolution == 5
    assert [w.letters for w in structure.words] == [tuple("ABCDE")]


def test_negative_generators_keep_their_sign() -> None:
    # when
    structure = fraction_structure(pydoe.fracfact("a b c -ab"))
    # then
    assert structure is not None
    assert structure.generators == ("D = -AB",)
    assert structure.defining_relation == "I = -ABD"


def test_twelve_run_plackett_burman_is_non_regular() -> None:
    """Box, Hunter and Hunter section 7.1: 12-run PB designs alias partially, not fully."""
    # when
    design = generate_design(space(11), PlackettBurman())
    # then
    assert len(design) == 12
    assert design.regular is False
    assert design.defining_relation == "" and design.resolution is None
    assert any("partially aliased" in note for note in design.notes)


def test_full_factorial_has_no_words_and_full_resolution() -> None:
    # when
    design = generate_design(space(3), FullFactorial())
    # then
    assert design.regular is True
    assert design.defining_relation == "I"
    assert design.resolution is None
    assert roman(design.resolution) == "full"


def test_replicates_repeat_the_design_and_number_each_copy() -> None:
    # when
    design = generate_design(space(2), FullFactorial(replicates=3))
    # then: 3 copies of 4 runs, each point replicated 0, 1, 2
    assert len(design) == 12
    per_point = Counter(tuple(p.values()) for p in design.points)
    assert set(per_point.values()) == {3}
    assert sorted(design.replicate) == [0] * 4 + [1] * 4 + [2] * 4


def test_latin_hypercube_gives_every_integer_level_its_share() -> None:
    # given: an integer factor 1..4 (rounding a continuous column would give 1 and 4 half)
    factors = FactorSpace(
        factors=[IntegerFactor(name="n", low=1, high=4), ContinuousFactor(name="x", low=0, high=1)]
    )
    # when
    design = generate_design(factors, LatinHypercube(samples=40, seed=1))
    # then
    assert Counter(p["n"] for p in design.points) == {1: 10, 2: 10, 3: 10, 4: 10}
    assert np.allclose(sorted(design.coded["n"].unique()), [-1, -1 / 3, 1 / 3, 1])


@pytest.mark.parametrize(("n", "last"), [(3, "C"), (9, "J"), (10, "K"), (26, "A2")])
def test_factor_letters_skip_i(n: int, last: str) -> None:
    # when
    letters = list(factor_letters([f"x{i}" for i in range(n)]).values())
    # then
    assert "I" not in letters
    assert letters[-1] == last
