"""Definitive screening designs: structure (Jones & Nachtsheim 2011) and model selection (2017)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from libs.config import validate
from libs.doe import DefinitiveScreening, FactorSpace, generate_design, select_dsd_model
from libs.doe.matrices import design_size
from libs.errors import InputError


def space(n_numeric: int, categorical: list[list[Any]] | None = None) -> FactorSpace:
    factors: list[dict[str, Any]] = [
        {"name": f"x{i}", "type": "continuous", "low": 0.0, "high": 1.0} for i in range(n_numeric)
    ]
    for i, levels in enumerate(categorical or []):
        factors.append({"name": f"c{i}", "type": "categorical", "levels": levels})
    return FactorSpace.model_validate({"factors": factors})


def second_order(x: np.ndarray) -> list[np.ndarray]:
    k = x.shape[1]
    squares = [x[:, j] ** 2 for j in range(k)]
    products = [x[:, a] * x[:, b] for a, b in itertools.combinations(range(k), 2)]
    return squares + products


@pytest.mark.parametrize(("k", "runs"), [(4, 9), (6, 13), (8, 17)])
def test_dsd_has_2k_plus_1_runs_and_orthogonal_main_effects(k: int, runs: int) -> None:
    """Jones & Nachtsheim (2011), Table 1: 2k+1 runs for even k; every main-effect column is
    orthogonal to every other one and to every two-factor interaction and quadratic."""
    # when
    design = generate_design(space(k), DefinitiveScreening(run_order="standard"))
    x = design.coded.to_numpy()
    # then
    assert len(design) == runs == design_size(space(k), DefinitiveScreening())
    assert set(np.unique(x)) == {-1.0, 0.0, 1.0}
    gram = x.T @ x
    assert np.allclose(gram - np.diag(np.diag(gram)), 0)
    for column in second_order(x):
        assert np.allclose(x.T @ column, 0)
    # each factor has a centre run besides the overall centre (curvature is estimable)
    assert ((x == 0).sum(axis=0) == 3).all()


def test_odd_k_uses_the_next_even_construction() -> None:
    # Jones & Nachtsheim (2011): odd k takes the k+1 design less a column, 2(k+1)+1 runs
    assert len(generate_design(space(5), DefinitiveScreening())) == 13


def test_two_fake_factors_give_2k_plus_3_runs() -> None:
    # Jones & Nachtsheim (2013, "Definitive screening designs with added two-level
    # categorical factors") recommend building with fake factors for an error estimate.
    design = generate_design(space(6), DefinitiveScreening(fake_factors=2))
    assert len(design) == 2 * 6 + 5 == 17  # 2(k+2)+1: the 8-column design, 2 columns dropped
    assert design.coded.shape[1] == 6


def test_two_level_categorical_factor_runs_at_its_levels_in_space_order() -> None:
    # given: a categorical factor between two numeric ones
    s = FactorSpace.model_validate(
        {
            "factors": [
                {"name": "a", "type": "integer", "low": 1, "high": 9},
                {"name": "solver", "type": "categorical", "levels": ["lbfgs", "adam"]},
                {"name": "b", "type": "continuous", "low": 0.001, "high": 1, "scale": "log"},
                {"name": "c", "type": "continuous", "low": 0, "high": 1},
            ]
        }
    )
    # when
    design = generate_design(s, DefinitiveScreening())
    # then
    assert {p["solver"] for p in design.points} == {"lbfgs", "adam"}
    assert {p["a"] for p in design.points} == {1, 5, 9}
    x = design.coded.to_numpy()
    assert set(np.unique(x[:, 1])) == {-1.0, 1.0}
    numeric = x[:, [0, 2, 3]]
    gram = numeric.T @ numeric
    assert np.allclose(gram - np.diag(np.diag(gram)), 0)
    # Jones & Nachtsheim (2013), DSD-augment: 2m+2 runs; the categorical column is only
    # nearly orthogonal to the numeric ones (|r| small), in exchange its interactions are
    # not aliased with main effects
    assert len(design) == 2 * 4 + 2
    r = np.corrcoef(x.T)[1, [0, 2, 3]]
    assert np.abs(r).max() < 0.35


def test_categorical_with_three_levels_is_refused_in_one_line_naming_it() -> None:
    s = space(3, [["a", "b", "c"]])
    with pytest.raises(InputError) as info:
        generate_design(s, DefinitiveScreening())
    assert "'c0'" in str(info.value) and "\n" not in str(info.value)


def test_a_yaml_typo_fails_validation() -> None:
    with pytest.raises(Exception, match="fake_factor"):
        validate(DefinitiveScreening, {"kind": "definitive_screening", "fake_factor": 2}, "x")


def test_two_stage_selection_finds_the_active_terms() -> None:
    """Jones & Nachtsheim (2017), constructed as their simulations are: a DSD with two fake
    factors (6 factors, 17 runs), three active main effects, one active quadratic and one
    interaction under strong heredity, noise SD 0.5. Stage 1 must find x0, x1, x3 (and
    nothing else), stage 2 x0^2 and x0*x1."""
    # given
    design = generate_design(space(6), DefinitiveScreening(fake_factors=2, run_order="standard"))
    x = design.coded.to_numpy()
    rng = np.random.default_rng(0)
    y = (
        10
        + 3 * x[:, 0]
        + 2 * x[:, 1]
        - 2.5 * x[:, 3]
        + 2 * x[:, 0] * x[:, 1]
        + 3 * x[:, 0] ** 2
        + rng.normal(0, 0.5, len(x))
    )
    # when
    selection = select_dsd_model(x, y, list(design.coded.columns))
    # then
    assert set(selection.main_effects) == {"x0", "x1", "x3"}
    assert set(selection.second_order) == {"x0^2", "x0*x1"}
    assert selection.error_df == 8 - 6
    assert any("heredity" in r for r in selection.reasons)


def test_selection_refuses_runs_that_are_not_fold_over_pairs() -> None:
    with pytest.raises(InputError, match="fold-over"):
        select_dsd_model(np.array([[1.0, 1.0], [1.0, -1.0], [0.0, 0.0]]), np.zeros(3), ["a", "b"])


def test_a_dsd_sweep_is_analysed_with_its_two_stage_selection() -> None:
    """The simulated model above, through the sweep's analysis of completed points: the
    notes carry the selected terms; a failed point (a broken pair) says why none is made."""
    from libs.doe.sweep import analyse_points

    # given: the design in random run order, as a sweep runs it
    s = space(6)
    design = generate_design(s, DefinitiveScreening(fake_factors=2, seed=3))
    x = design.coded.to_numpy()
    rng = np.random.default_rng(0)
    y = 10 + 3 * x[:, 0] + 2 * x[:, 1] - 2.5 * x[:, 3] + 3 * x[:, 0] ** 2
    y = y + 2 * x[:, 0] * x[:, 1] + rng.normal(0, 0.5, len(x))
    # when
    analysis = analyse_points(design, s, dict(enumerate(y)), maximize=True)
    # then
    (note,) = [n for n in analysis.notes if n.startswith("definitive screening")]
    assert "active main effects x0, x1, x3;" in note
    second = set(note.split("second-order terms ")[1].split(" (")[0].split(", "))
    assert {"x0^2", "x0:x1"} <= second  # the true terms (a false positive may join at 5%)
    # and: one failed point
    broken = analyse_points(design, s, {**dict(enumerate(y)), 0: float("nan")}, maximize=True)
    assert any("broke its fold-over pairs" in n for n in broken.notes)
