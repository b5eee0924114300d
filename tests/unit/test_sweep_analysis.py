"""The sweep's analysis, picked by design kind, on designs with known responses."""

from __future__ import annotations

import numpy as np
import pytest

from libs.doe import (
    CentralComposite,
    ContinuousFactor,
    FactorSpace,
    FullFactorial,
    LatinHypercube,
    PlackettBurman,
    generate_design,
)
from tasks.sweep import (
    PointResult,
    analyse,
    best_point,
    lenth_standardized,
    results_table,
    sweep_figures,
)

SPACE = FactorSpace(
    factors=[
        ContinuousFactor(name="a", low=0.0, high=1.0),
        ContinuousFactor(name="b", low=0.0, high=1.0),
        ContinuousFactor(name="c", low=0.0, high=1.0),
    ]
)


def linear(coded: dict[str, float]) -> float:
    """y = 10 + 3a - 1b + 0.5c + 2ab (in coded units): main effects 6, -2, 1; AB 4."""
    return 10 + 3 * coded["a"] - coded["b"] + 0.5 * coded["c"] + 2 * coded["a"] * coded["b"]


def test_factorial_gives_effects_interactions_and_anova() -> None:
    # given: a 2^3 full factorial with a known response plus small noise
    design = generate_design(SPACE, FullFactorial())
    rng = np.random.default_rng(0)
    y = {i: linear(row) + rng.normal(0, 0.01) for i, row in design.coded.iterrows()}
    # when
    analysis = analyse(design, SPACE, y, maximize=True)
    # then
    assert analysis.effects is not None and analysis.interactions is not None
    assert analysis.effects.round(1).to_dict() == {"a": 6.0, "b": -2.0, "c": 1.0}
    assert analysis.interactions["a:b"] == pytest.approx(4.0, abs=0.05)
    assert analysis.anova is not None and analysis.anova.loc["a", "PR(>F)"] < 1e-3
    assert analysis.standardized_method == "t (ANOVA)" and analysis.threshold
    assert analysis.top_effects(2) == [
        ("a", pytest.approx(6.0, abs=0.05)),
        ("a:b", pytest.approx(4.0, abs=0.05)),
    ]
    metrics = analysis.metrics()
    assert metrics["effect.a"] == pytest.approx(6.0, abs=0.05)
    assert "interaction.a:b" in metrics and "anova.p.a" in metrics
    assert analysis.surface is None


def test_plackett_burman_skips_aliased_interactions() -> None:
    design = generate_design(SPACE, PlackettBurman())
    y = {i: linear({**row, "b": 0.0}) for i, row in design.coded.iterrows()}
    analysis = analyse(design, SPACE, y, maximize=True)
    assert analysis.interactions is None
    assert any("Plackett-Burman" in n for n in analysis.notes)
    assert analysis.effects is not None and analysis.effects["a"] == pytest.approx(6.0)


def test_central_composite_fits_a_surface_and_finds_the_optimum() -> None:
    # given: a quadratic with its maximum inside the box at coded (0.5, -0.25)
    space = FactorSpace(factors=SPACE.factors[:2])
    design = generate_design(space, CentralComposite(face="faced"))

    def bowl(row: dict[str, float]) -> float:
        return 5 - (row["a"] - 0.5) ** 2 - 2 * (row["b"] + 0.25) ** 2

    y = {i: bowl(row) for i, row in design.coded.iterrows()}
    # when
    analysis = analyse(design, space, y, maximize=True)
    # then
    s = analysis.surface
    assert s is not None and s.r_squared == pytest.approx(1.0)
    assert s.optimum_coded["a"] == pytest.approx(0.5, abs=1e-3)
    assert s.optimum["b"] == pytest.approx(0.375, abs=1e-3)  # coded -0.25 in [0, 1]
    assert analysis.metrics()["surface.predicted_optimum"] == pytest.approx(5.0)
    assert analysis.effects is not None


def test_latin_hypercube_uses_regression_effects() -> None:
    design = generate_design(SPACE, LatinHypercube(samples=20, seed=1))
    y = {i: linear({**row, "b": 0.0}) for i, row in design.coded.iterrows()}
    analysis = analyse(design, SPACE, y, maximize=False)
    assert analysis.effects_method == "regression"
    assert analysis.effects is not None and analysis.effects["a"] == pytest.approx(6.0)
    assert analysis.surface is not None  # 20 runs > 10 quadratic terms


def test_failed_points_are_left_out_and_said_so() -> None:
    # given: two of eight points failed (no response)
    design = generate_design(SPACE, FullFactorial())
    y = {i: linear(row) for i, row in design.coded.iterrows() if i not in (0, 5)}
    # when
    analysis = analyse(design, SPACE, y, maximize=True)
    # then
    assert (analysis.used, analysis.failed) == (6, 2)
    assert analysis.notes[0] == "2 of 8 points failed; analysed the 6 others"
    assert analysis.effects is not None


def test_too_few_completed_points_give_notes_not_errors() -> None:
    design = generate_design(SPACE, FullFactorial())
    analysis = analyse(design, SPACE, {3: 1.0}, maximize=True)
    assert analysis.effects is None and analysis.metrics() == {}
    assert any("too few" in n for n in analysis.notes)


def test_lenth_flags_the_one_real_effect() -> None:
    import pandas as pd

    effects = pd.Series({"a": 10.0, "b": 0.2, "c": -0.3, "d": 0.1, "e": 0.25, "f": -0.15})
    t, margin = lenth_standardized(effects)
    assert abs(t["a"]) > margin
    assert all(abs(t[k]) < margin for k in "bcdef")


def test_best_point_respects_direction_and_skips_failures() -> None:
    results = [
        PointResult(0, {}, "completed", objective=0.5),
        PointResult(1, {}, "failed", error="boom"),
        PointResult(2, {}, "reused", objective=0.9),
    ]
    assert best_point(results, maximize=True).index == 2  # type: ignore[union-attr]
    assert best_point(results, maximize=False).index == 0  # type: ignore[union-attr]
    assert best_point(results[1:2], maximize=True) is None


def test_results_table_has_one_row_per_point() -> None:
    design = generate_design(SPACE, PlackettBurman())
    results = [
        PointResult(0, design.points[0], "completed", {"accuracy": 0.9}, 0.9, run_id="r0"),
        PointResult(1, design.points[1], "failed", error="ValueError: bad"),
    ]
    table = results_table(design, results, "accuracy")
    assert len(table) == len(design)
    assert list(table["status"][:3]) == ["completed", "failed", "missing"]
    assert table.loc[0, "metric.accuracy"] == 0.9 and table.loc[1, "error"] == "ValueError: bad"


def test_sweep_figures_cover_effects_pareto_and_surface() -> None:
    space = FactorSpace(factors=SPACE.factors[:2])
    design = generate_design(space, CentralComposite())
    results = [
        PointResult(
            i, design.points[i], "completed", objective=linear({**row, "c": 0.0}) - row["a"] ** 2
        )
        for i, row in design.coded.iterrows()
    ]
    analysis = analyse(design, space, {r.index: r.objective for r in results}, maximize=True)  # type: ignore[misc]
    names = [name for name, _ in sweep_figures(design, space, results, analysis, "y")]
    assert names[:3] == ["Main effects", "Interactions", "Pareto of effects"]
    assert "Response surface: a x b" in names
