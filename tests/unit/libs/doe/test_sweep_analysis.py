"""The sweep's analysis of its completed points, on designs with known responses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows.config.sweep import load_sweep_config
from libs.doe import (
    CentralComposite,
    ContinuousFactor,
    FactorSpace,
    FullFactorial,
    LatinHypercube,
    PlackettBurman,
    generate_design,
)
from libs.doe.summary import SweepSummary, summary_lines
from libs.doe.sweep import PointResult, analyse_points, best_point, results_table
from libs.plots.doe_sweep import report_meta, sweep_figures

SPACE = FactorSpace(
    factors=[
        ContinuousFactor(name="a", low=0.0, high=1.0),
        ContinuousFactor(name="b", low=0.0, high=1.0),
        ContinuousFactor(name="c", low=0.0, high=1.0),
    ]
)
CONFIGS = Path(__file__).resolve().parents[4] / "configs" / "sweeps"


def linear(coded: dict[str, float]) -> float:
    """y = 10 + 3a - 1b + 0.5c + 2ab (in coded units): main effects 6, -2, 1; AB 4."""
    return 10 + 3 * coded["a"] - coded["b"] + 0.5 * coded["c"] + 2 * coded["a"] * coded["b"]


def test_unreplicated_factorial_gives_every_effect_once_and_lenth() -> None:
    # given: a 2^3 full factorial, a known response plus small noise
    design = generate_design(SPACE, FullFactorial())
    rng = np.random.default_rng(0)
    coded = list(design.coded.iterrows())
    y = {i: linear(row) + rng.normal(0, 0.01) for i, row in coded}
    # when
    analysis = analyse_points(design, SPACE, y, maximize=True)
    # then: unreplicated 2^3: 7 effects, Lenth on all of them (none duplicated)
    r = analysis.result
    assert r is not None and r.method == "lenth" and len(r.effects) == 7
    effects = r.effect_series()
    assert effects[["a", "b", "c", "a:b"]].round(1).to_dict() == {
        "a": 6.0,
        "b": -2.0,
        "c": 1.0,
        "a:b": 4.0,
    }
    assert analysis.top_effects(2) == [
        ("a", pytest.approx(6.0, abs=0.05)),
        ("a:b", pytest.approx(4.0, abs=0.05)),
    ]
    metrics = analysis.metrics()
    assert metrics["effect.a"] == pytest.approx(6.0, abs=0.05) and "lenth.me" in metrics
    assert "Lenth's method on 7 effects" in analysis.significance()


def test_plackett_burman_estimates_main_effects_only() -> None:
    design = generate_design(SPACE, PlackettBurman())
    y = {i: linear({**row, "b": 0.0}) for i, row in design.coded.iterrows()}
    analysis = analyse_points(design, SPACE, y, maximize=True)
    r = analysis.result
    assert r is not None and not r.interactions_estimable
    # pyDOE's 3-factor Plackett-Burman is the 2^(3-1): each main effect is a chain
    assert list(r.aliases["chain"]) == ["A = BC", "B = AC", "C = AB"]
    assert r.effect_series()["a"] == pytest.approx(6.0)
    assert r.method == "none"
    assert any("too few effects for Lenth's method" in n for n in analysis.notes)


def test_central_composite_reports_canonical_analysis_and_optimum() -> None:
    # given: a quadratic with its maximum inside the box at coded (0.5, -0.25)
    space = FactorSpace(factors=SPACE.factors[:2])
    design = generate_design(space, CentralComposite(face="faced"))

    def bowl(row: dict[str, float]) -> float:
        return 5 - (row["a"] - 0.5) ** 2 - 2 * (row["b"] + 0.25) ** 2

    rng = np.random.default_rng(0)
    y = {i: bowl(row) + rng.normal(0, 1e-3) for i, row in design.coded.iterrows()}
    # when
    analysis = analyse_points(design, space, y, maximize=True)
    # then
    r = analysis.result
    assert r is not None and r.canonical is not None and r.canonical.nature == "maximum"
    fitted = analysis.best_fitted()
    assert fitted is not None
    point, value, what = fitted
    assert what.startswith("optimum")
    assert point["a"] == pytest.approx(0.75, abs=1e-2)  # coded 0.5 in [0, 1]
    assert point["b"] == pytest.approx(0.375, abs=1e-2)  # coded -0.25
    assert value == pytest.approx(5.0, abs=1e-2)


def test_latin_hypercube_fits_a_second_order_model() -> None:
    design = generate_design(SPACE, LatinHypercube(samples=20, seed=1))
    y = {i: linear({**row, "b": 0.0}) for i, row in design.coded.iterrows()}
    analysis = analyse_points(design, SPACE, y, maximize=False)
    r = analysis.result
    assert r is not None and r.kind == "general" and r.anova is not None
    assert r.effect_series()["a"] == pytest.approx(6.0)


def test_failed_points_are_left_out_and_said_so() -> None:
    # given: two of eight points failed (no response)
    design = generate_design(SPACE, FullFactorial())
    y = {i: linear(row) for i, row in design.coded.iterrows() if i not in (0, 5)}
    # when
    analysis = analyse_points(design, SPACE, y, maximize=True)
    # then
    assert (analysis.used, analysis.failed) == (6, 2)
    assert analysis.notes[0] == "2 of 8 points failed; analysed the 6 others"
    assert analysis.result is not None and not analysis.result.effects.empty


def test_too_few_completed_points_give_notes_not_errors() -> None:
    design = generate_design(SPACE, FullFactorial())
    analysis = analyse_points(design, SPACE, {3: 1.0}, maximize=True)
    assert analysis.result is None and analysis.metrics() == {}
    assert any("too few" in n for n in analysis.notes)


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


def _points(design, f) -> list[PointResult]:  # type: ignore[no-untyped-def]
    return [
        PointResult(i, design.points[i], "completed", objective=f(row))
        for i, row in design.coded.iterrows()
    ]


def test_sweep_figures_cover_effects_aliases_anova_and_surface() -> None:
    # given: a CCD
    space = FactorSpace(factors=SPACE.factors[:2])
    design = generate_design(space, CentralComposite())
    rng = np.random.default_rng(1)
    results = _points(design, lambda r: linear({**r, "c": 0.0}) - r["a"] ** 2 + rng.normal(0, 0.1))
    analysis = analyse_points(design, space, {p.index: p.objective for p in results}, True)  # type: ignore[misc]
    # when
    names = [name for name, _ in sweep_figures(design, space, results, analysis, "y")]
    # then
    assert names[:3] == ["Main effects", "Interactions", "Pareto of effects"]
    assert "Response surface: a x b" in names
    assert {"ANOVA", "Canonical analysis"} <= set(names)


def test_sweep_figures_of_a_screening_design_skip_inestimable_interactions() -> None:
    # given: 2^(3-1): AB = C, so an interaction plot would show a main effect
    design = generate_design(SPACE, PlackettBurman())
    results = _points(design, linear)
    analysis = analyse_points(design, SPACE, {p.index: p.objective for p in results}, True)  # type: ignore[misc]
    # when
    names = [name for name, _ in sweep_figures(design, SPACE, results, analysis, "y")]
    # then
    assert "Interactions" not in names
    assert {"Alias structure", "Half-normal plot", "Pareto of effects"} <= set(names)


def test_saddle_is_reported_as_a_best_point_not_an_optimum() -> None:
    # given: y = a^2 - b^2 on a CCD
    space = FactorSpace(factors=SPACE.factors[:2])
    design = generate_design(space, CentralComposite(face="faced"))
    rng = np.random.default_rng(2)
    y = {
        i: r["a"] ** 2 - r["b"] ** 2 + 0.2 * r["b"] + rng.normal(0, 0.01)
        for i, r in design.coded.iterrows()
    }
    # when
    analysis = analyse_points(design, space, y, maximize=True)
    meta = report_meta(design, analysis, None, "y", {})
    # then
    fitted = analysis.best_fitted()
    assert fitted is not None and "saddle" in fitted[2] and not fitted[2].startswith("optimum")
    assert "fitted best point" in meta and "fitted optimum" not in meta
    summary = SweepSummary(
        **{
            **dict.fromkeys(SweepSummary.__dataclass_fields__, ""),
            "top_effects": [],
            "optimum": fitted[0],
            "predicted_optimum": fitted[1],
            "optimum_kind": fitted[2],
            "surface_r2": None,
            "best_point": None,
            "best_value": None,
            "version": None,
            "notes": [],
            "points": 9,
            "completed": 9,
            "reused": 0,
            "failed": 0,
        }
    )
    lines = summary_lines(summary)
    assert any(line.startswith("Fitted optimum:") and "none" in line for line in lines)
    assert any(line.startswith("Best fitted point:") for line in lines)


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_shipped_sweep_configs_report_no_aliased_effects(name: str) -> None:
    """Every shipped sweep, with a made-up response: no effect reported twice under
    two names, and no significance printed where the method cannot give any."""
    # given
    config = load_sweep_config(CONFIGS / name)
    design = generate_design(config.space, config.design)
    rng = np.random.default_rng(0)
    y = {i: float(rng.normal()) for i in range(len(design))}
    # when
    analysis = analyse_points(design, config.space, y, maximize=True)
    # then
    r = analysis.result
    assert r is not None
    values = r.effect_series().round(10)
    assert values.abs().duplicated().sum() == 0 or r.kind == "general"
    if r.method == "lenth":
        assert r.lenth is not None and r.lenth.m >= 7
    if r.method == "none":
        assert r.standardized() is None
