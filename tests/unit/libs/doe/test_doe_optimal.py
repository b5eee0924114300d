"""Optimal designs: known optima, constraints never broken, bad budgets refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from libs.config import validate
from libs.doe import FactorSpace, Optimal, generate_design
from libs.doe.evaluate import evaluate_design
from libs.doe.matrices import design_size
from libs.doe.optimal import candidate_set, feasibility
from libs.errors import InputError

MIXED = FactorSpace.model_validate(
    {
        "factors": [
            {"name": "model.params.max_depth", "type": "integer", "low": 2, "high": 12},
            {"name": "model.params.n_estimators", "type": "integer", "low": 50, "high": 600},
            {
                "name": "model.params.learning_rate",
                "type": "continuous",
                "low": 0.01,
                "high": 0.3,
                "scale": "log",
            },
            {"name": "model.params.solver", "type": "categorical", "levels": ["a", "b", "c"]},
        ]
    }
)
CONSTRAINTS: list[Any] = [
    "max_depth + n_estimators / 100 <= 14",
    {"max_depth": ">8", "n_estimators": ">400"},
    {"solver": "c", "learning_rate": ">0.1"},
]


def numeric(k: int) -> FactorSpace:
    return FactorSpace.model_validate(
        {
            "factors": [
                {"name": f"x{i}", "type": "continuous", "low": 0, "high": 1} for i in range(k)
            ]
        }
    )


def test_d_optimal_8_runs_for_3_factors_is_the_2_to_the_3_factorial() -> None:
    """The D-optimal 8-run design for a first-order model on the cube is the 2^3 factorial
    (Atkinson, Donev & Tobias, Optimum Experimental Designs, ch. 11): D-efficiency 100%.
    `pure_error: 0`: every run a distinct setting, as the textbook's exact design."""
    # when
    design = generate_design(numeric(3), Optimal(runs=8, model="linear", pure_error=0))
    # then
    x = design.coded.to_numpy()
    assert sorted(map(tuple, x)) == sorted(
        (a, b, c) for a in (-1.0, 1.0) for b in (-1.0, 1.0) for c in (-1.0, 1.0)
    )
    e = evaluate_design(design.coded, numeric(3), "linear")
    assert e.d_efficiency == pytest.approx(100)


def test_d_optimal_quadratic_on_a_line_is_the_ends_and_the_middle() -> None:
    """Kiefer (1959; Atkinson, Donev & Tobias, 9.2): the exact 3-point D-optimal design for
    y = b0 + b1 x + b2 x^2 on [-1, 1] is {-1, 0, 1}, |X'X| = 4."""
    design = generate_design(numeric(1), Optimal(runs=3, model="quadratic", levels=9))
    x = sorted(design.coded["x0"])
    assert x == [-1.0, 0.0, 1.0]
    f = np.column_stack([np.ones(3), x, np.square(x)])
    assert np.linalg.det(f.T @ f) == pytest.approx(4.0)


@pytest.mark.parametrize("criterion", ["D", "I"])
def test_no_generated_point_breaks_a_constraint(criterion: str) -> None:
    # given: a linear inequality in natural units and two disallowed combinations
    spec = Optimal(runs=18, model="interactions", criterion=criterion, constraints=CONSTRAINTS)
    # when
    design = generate_design(MIXED, spec)
    # then
    assert len(design) == 18 == design_size(MIXED, spec)
    for p in design.points:
        depth, trees = p["model.params.max_depth"], p["model.params.n_estimators"]
        assert depth + trees / 100 <= 14
        assert not (depth > 8 and trees > 400)
        assert not (p["model.params.solver"] == "c" and p["model.params.learning_rate"] > 0.1)
    assert {p["model.params.solver"] for p in design.points} == {"a", "b", "c"}
    assert evaluate_design(design.coded, MIXED, "interactions").estimable


def test_candidates_are_the_feasible_grid() -> None:
    allowed = feasibility(MIXED, CONSTRAINTS)
    candidates = candidate_set(MIXED, CONSTRAINTS)
    assert len(candidates) < 3 * 3 * 3 * 3
    assert all(allowed(MIXED.decode(row)) for row in candidates.to_dict("records"))


def test_a_budget_below_the_model_terms_is_refused_in_one_line() -> None:
    with pytest.raises(InputError) as info:
        generate_design(MIXED, Optimal(runs=14, model="interactions"))
    message = str(info.value)
    assert "design.runs" in message and "15 parameters" in message and "\n" not in message


@pytest.mark.parametrize(
    ("constraint", "words"),
    [
        ("depth + n_estimators <= 3", "'depth' is not a factor"),
        ("max_depth * n_estimators <= 100", "only linear"),
        ("max_depth <= 1", "no setting"),
        ("max_depth = 3", "not an inequality"),
        ({"solver": ">1"}, "categorical"),
    ],
)
def test_bad_constraints_fail_in_one_line(constraint: Any, words: str) -> None:
    with pytest.raises(InputError, match=words) as info:
        generate_design(MIXED, Optimal(runs=8, constraints=[constraint]))
    assert "\n" not in str(info.value)


def test_an_unknown_criterion_fails_validation() -> None:
    with pytest.raises(Exception, match="criterion"):
        validate(Optimal, {"kind": "optimal", "runs": 8, "criterion": "A"}, "sweep.yaml")


def test_a_grid_whose_first_candidates_are_singular_still_gives_a_full_rank_design() -> None:
    # given: a 3^5 grid in standard order, whose first 10 points vary one factor only
    space = numeric(5)
    # when
    design = generate_design(space, Optimal(runs=10, model="linear", pure_error=0))
    # then: every main effect estimable and the design nearly orthogonal
    e = evaluate_design(design.coded, space, "linear")
    assert e.estimable and e.d_efficiency > 90 and e.vif.max() < 1.2


# --- pure error: centre runs or replicates where the budget allows ----------------------


def test_a_budget_with_runs_to_spare_adds_centre_runs_for_pure_error() -> None:
    """Montgomery, Design and Analysis of Experiments, 8th ed., 6.8: centre runs added to a
    two-level design give pure error without touching the main effects' estimates. Ten
    runs for a first-order model in five factors (6 parameters): 8 distinct settings, an
    orthogonal 2^(5-2), and 2 centre runs (1 pure-error df, curvature testable)."""
    # when
    design = generate_design(numeric(5), Optimal(runs=10, model="linear"))
    # then
    centre = design.coded.abs().max(axis=1) < 1e-9
    assert int(centre.sum()) == 2
    e = evaluate_design(design.coded, numeric(5), "linear")
    assert e.vif.max() == pytest.approx(1.0)
    assert any(n.startswith("pure error: 1 df") for n in design.notes)


def test_with_a_categorical_factor_the_highest_leverage_setting_is_repeated() -> None:
    # given: a three-level categorical factor: no centre run exists
    spec = Optimal(runs=18, model="interactions", constraints=CONSTRAINTS)
    # when
    design = generate_design(MIXED, spec)
    # then: one setting appears twice (18 runs, 15 parameters: 1 replicate, 2 lack-of-fit df)
    rows = [tuple(r) for r in design.coded.round(9).to_numpy()]
    assert len(rows) - len(set(rows)) == 1
    assert "pure error: 1 df from replicated runs, lack of fit 2 df" in design.notes[-1]


def test_a_budget_without_runs_to_spare_says_there_is_no_pure_error() -> None:
    # given: 5 runs for 4 parameters
    design = generate_design(numeric(3), Optimal(runs=5, model="linear"))
    # then
    assert len({tuple(r) for r in design.coded.to_numpy()}) == 5
    assert design.notes[-1].startswith("no pure error: 5 runs for the linear model's 4")
    assert "a budget of 6 or more" in design.notes[-1]


def test_asking_for_more_replicates_than_the_budget_allows_is_refused() -> None:
    with pytest.raises(InputError, match=r"^design.pure_error: 4 replicate runs leave 4 distinct"):
        generate_design(numeric(3), Optimal(runs=8, model="linear", pure_error=4))
