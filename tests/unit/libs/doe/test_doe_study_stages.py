"""A sequential study's stages and its several responses, on the pure parts.

References: Montgomery, *Design and Analysis of Experiments*, 9th ed.
(section 8.6 fold-over, 11.2 steepest ascent, 11.4 CCD in blocks);
Derringer and Suich (1980), "Simultaneous optimization of several response
variables", J. Quality Technology 12(4), as presented in Myers, Montgomery
and Anderson-Cook, *Response Surface Methodology*, 4th ed., section 6.6.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flows.config.stages import next_stage
from flows.config.sweep import SweepConfig, load_sweep_config, plan_sweep
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
from libs.doe.desirability import Desirability, overall_desirability
from libs.doe.responses import ResponseGoal, combine_responses
from libs.doe.stages import active_factors, next_centre, recentred_factors
from libs.doe.sweep import EarlierSweep, analyse_points
from libs.errors import InputError
from libs.metrics.cost import cost_metrics, serialized_size
from libs.plots.pareto import pareto_figure

STUDY = "configs/sweeps/diabetes_gbr_study.yaml"
FIVE = FactorSpace(factors=[ContinuousFactor(name=n, low=-1, high=1) for n in "ABCDE"])
RES_III = FractionalFactorial(generator="a b c ab ac", run_order="standard")


# --- desirability against hand-computed values -----------------------------------------


def test_derringer_suich_tire_tread_optimum_by_hand() -> None:
    """Derringer & Suich (1980) tire tread compound (Myers et al. section 6.6).

    Goals: PICO abrasion y1 maximise in [120, 170]; 200% modulus y2 maximise in
    [1000, 1300]; elongation y3 target 500 in [400, 600]; hardness y4 target
    67.5 in [60, 75]. At their optimum y = (129.5, 1300, 465.7, 68):
    d1 = 9.5/50 = 0.19, d2 = 1, d3 = 65.7/100 = 0.657, d4 = 7/7.5 = 0.9333,
    D = (0.19 * 1 * 0.657 * 0.9333)^(1/4) = 0.5843 (published: 0.583).
    """
    specs = {
        "y1": Desirability(goal="maximize", low=120, high=170),
        "y2": Desirability(goal="maximize", low=1000, high=1300),
        "y3": Desirability(goal="target", low=400, high=600, target=500),
        "y4": Desirability(goal="target", low=60, high=75, target=67.5),
    }
    y = {"y1": [129.5], "y2": [1300.0], "y3": [465.7], "y4": [68.0]}
    d = {k: float(specs[k](v)[0]) for k, v in y.items()}
    assert d == pytest.approx({"y1": 0.19, "y2": 1.0, "y3": 0.657, "y4": 7 / 7.5}, abs=1e-9)
    overall = float(overall_desirability(y, specs)[0])
    assert overall == pytest.approx((0.19 * 0.657 * 7 / 7.5) ** 0.25, abs=1e-12)
    assert overall == pytest.approx(0.583, abs=0.002)


def test_weights_and_shapes_by_hand() -> None:
    # given: y1 maximise [50, 100] weight 2, y2 minimise [10, 30] weight 1
    specs = {
        "y1": Desirability(goal="maximize", low=50, high=100, weight=2),
        "y2": Desirability(goal="minimize", low=10, high=30),
    }
    # then: d1 = 0.6, d2 = 0.75, D = (0.6^2 * 0.75)^(1/3)
    D = overall_desirability({"y1": [80.0], "y2": [15.0]}, specs)
    assert float(D[0]) == pytest.approx((0.36 * 0.75) ** (1 / 3))
    # and: a target with shape 2 below and 0.5 above (Derringer-Suich exponents)
    t = Desirability(goal="target", low=0, high=20, target=10, shape=2, shape_high=0.5)
    assert t([5.0, 15.0, 25.0]).tolist() == pytest.approx([0.25, math.sqrt(0.5), 0.0])


def test_response_goal_bounds_default_to_the_widened_observed_range() -> None:
    """Derringer and Suich (1980): d = 0 marks an unacceptable value. Without limits in the
    config, the observed range is widened by half of it on the unacceptable side, so the
    worst run is not unacceptable by construction (d = 1/3), the best is ideal (d = 1)."""
    goal = ResponseGoal(metric="train_seconds")
    d = goal.desirability([2.0, 4.0, 3.0], "minimize")
    assert (d.goal, d.low, d.high) == ("minimize", 2.0, 5.0)
    assert d([2.0, 3.0, 4.0]).tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    up = ResponseGoal(metric="r2").desirability([0.4, 0.5], "maximize")
    assert (up.low, up.high) == pytest.approx((0.35, 0.5))
    aim = ResponseGoal(metric="x", goal="target", target=3.0).desirability([2.0, 4.0], "maximize")
    assert (aim.low, aim.high, aim.target) == pytest.approx((1.0, 5.0, 3.0))
    given = ResponseGoal(metric="r2", low=0.0, high=1.0).desirability([0.4, 0.5], "maximize")
    assert (given.low, given.high) == (0.0, 1.0)
    with pytest.raises(ValueError, match="responses: r2: low"):
        ResponseGoal(metric="r2", low=1, high=0)
    with pytest.raises(ValueError, match="target"):
        ResponseGoal(metric="r2", goal="target")


def test_desirability_optimum_on_fitted_surfaces_beats_every_run() -> None:
    # given: a CCD in two factors; y1 peaks at (0.5, 0), y2 (to minimise) grows with A
    space = FactorSpace(factors=[ContinuousFactor(name=n, low=-1, high=1) for n in "AB"])
    design = generate_design(
        space, AugmentToCCD(first={"kind": "full_factorial"}, alpha="faced", run_order="standard")
    )
    x = design.coded
    y1 = 10 - (x["A"] - 0.5) ** 2 - x["B"] ** 2
    y2 = 5 + 2 * x["A"]
    values = {"y1": dict(enumerate(y1)), "y2": dict(enumerate(y2))}
    analyses = {
        "y1": analyse_points(design, space, values["y1"], True),
        "y2": analyse_points(design, space, values["y2"], False),
    }
    goals = {"y1": ResponseGoal(metric="y1"), "y2": ResponseGoal(metric="y2")}
    # when
    multi = combine_responses(
        x, design.points, space, values, goals, {"y1": "maximize", "y2": "minimize"}, analyses
    )
    # then: the optimum is searched on the surfaces and is at least as good as every run
    assert multi.optimum is not None and multi.optimum.source == "fitted surfaces"
    assert multi.optimum.overall >= float(multi.table["D"].max()) - 1e-9
    assert -1 <= multi.optimum.coded["A"] <= 0.5 and abs(multi.optimum.coded["B"]) < 0.1
    # and: the Pareto front of (y1 max, y2 min) holds the run with the lowest y2
    front = multi.table[multi.table["pareto"]]
    assert float(front["y2"].min()) == pytest.approx(3.0)
    figure = pareto_figure(
        multi.table["y1"], multi.table["y2"], multi.table["pareto"], x_name="y1", y_name="y2"
    )
    assert len(figure.data[1].x) == int(multi.table["pareto"].sum())


# --- fold-over and augmentation of the shipped study's designs --------------------------


def test_study_fold_over_makes_resolution_iv_and_keeps_stage_one() -> None:
    # given: the 2^(5-2)_III of the shipped study (I = ABD = ACE = BCDE)
    first = generate_design(FIVE, RES_III)
    assert first.resolution == 3 and first.defining_relation == "I = ABD = ACE = BCDE"
    # when
    both = generate_design(FIVE, FoldOver(first=RES_III, run_order="standard"))
    # then: 16 runs of resolution IV, stage one first and unchanged, block 2 after it
    assert both.resolution == 4 and len(both) == 16
    pd.testing.assert_frame_equal(both.coded.iloc[:8], first.coded)
    assert both.block == (1,) * 8 + (2,) * 8
    # and: the analysis estimates every main effect clear of two-factor interactions
    rng = np.random.default_rng(1)
    y = 3 * both.coded["A"] + 2 * both.coded["A"] * both.coded["B"] + rng.normal(0, 0.01, 16)
    result = analyse(both.coded, y.to_numpy(), FIVE, block=list(both.block))
    chains = dict(zip(result.effects["name"], result.effects["chain"], strict=True))
    for factor in "ABCDE":
        assert chains[factor].count("=") == 0 or all(
            len(member.strip()) != 2 for member in chains[factor].split("=")[1:]
        )
    effects = result.effect_series()
    assert effects["A"] == pytest.approx(6, abs=0.1)
    assert effects["D"] == pytest.approx(0, abs=0.1)  # stage 1 had D = AB: now separated


def test_fold_over_of_a_resolution_iv_fraction_is_refused_as_pointless() -> None:
    res_iv = FractionalFactorial(generator="a b c d abc")
    with pytest.raises(InputError, match=r"resolution IV.*separates nothing"):
        generate_design(FIVE, FoldOver(first=res_iv))
    # a fold-over on one factor of a resolution IV fraction still separates 2FIs
    assert len(generate_design(FIVE, FoldOver(first=res_iv, factor="A"))) == 32


def test_augmenting_the_active_factors_of_a_fold_over_gives_a_three_block_ccd() -> None:
    # when: the 16 runs of stage 1 + 2, augmented in A, B, C (D, E held at the centre)
    spec = AugmentToCCD(
        first=FoldOver(first=RES_III, run_order="standard"),
        factors=["A", "B", "C"],
        run_order="standard",
    )
    ccd = generate_design(FIVE, spec)
    # then: 16 + 6 axial + 2 centre runs; orthogonal alpha sqrt(16 (6 + 2) / (2 * 16)) = 2
    assert len(ccd) == 24 and ccd.block == (1,) * 8 + (2,) * 8 + (3,) * 8
    assert ccd.active == ("A", "B", "C")
    added = ccd.coded.iloc[16:].to_numpy()
    expected = np.zeros((8, 5))
    for j in range(3):
        expected[2 * j, j], expected[2 * j + 1, j] = -2.0, 2.0
    np.testing.assert_allclose(added, expected)
    # and: the projected first stages are a replicated 2^3 in A, B, C
    cube = ccd.coded.iloc[:16][["A", "B", "C"]]
    assert len(cube.drop_duplicates()) == 8


def test_augmenting_factors_aliased_in_the_earlier_runs_is_refused() -> None:
    # D = AB in the resolution III fraction: A, B, D cannot carry a quadratic model
    with pytest.raises(InputError, match="resolution III"):
        generate_design(FIVE, AugmentToCCD(first=RES_III, factors=["A", "B", "D"]))
    with pytest.raises(InputError, match=r"design\.hold: Z"):
        generate_design(
            FIVE, AugmentToCCD(first=FoldOver(first=RES_III), factors=["A", "B"], hold={"Z": 1})
        )


# --- choosing the next stage from an analysis -------------------------------------------


def test_active_factors_come_from_significant_effects_and_their_interactions() -> None:
    both = generate_design(FIVE, FoldOver(first=RES_III, run_order="standard"))
    x = both.coded
    rng = np.random.default_rng(0)
    y = 5 * x["A"] + 4 * x["B"] + 3 * x["A"] * x["C"] + rng.normal(0, 0.05, len(x))
    result = analyse(x, y.to_numpy(), FIVE, block=list(both.block))
    chosen, how = active_factors(result)
    assert chosen == ["A", "B", "C"] and how == "significant"
    assert active_factors(result, exclude={"C"})[0] == ["A", "B"]


def test_next_centre_follows_steepest_ascent_and_refuses_curvature() -> None:
    # given: a 2^2 with centre points and a plane rising in A twice as fast as in B
    space = FactorSpace(
        factors=[
            ContinuousFactor(name="A", low=10, high=20),
            ContinuousFactor(name="B", low=0.01, high=1, scale="log"),
        ]
    )
    design = generate_design(space, FullFactorial(center_points=3))
    x = design.coded
    rng = np.random.default_rng(3)
    plane = 2 * x["A"] + x["B"] + rng.normal(0, 0.01, len(x))
    result = analyse(x, plane.to_numpy(), space)
    # when
    centre, how = next_centre(result, space)
    # then: step 2 moves A two coded units and B one (Montgomery 11.2)
    assert centre == pytest.approx({"A": 2.0, "B": 1.0}, abs=0.02)
    factors = recentred_factors(space, centre)
    assert factors[0]["low"] == pytest.approx(20, abs=0.1)
    assert factors[0]["high"] == pytest.approx(30, abs=0.1)
    assert factors[1]["low"] == pytest.approx(0.1, rel=0.1)  # a decade up on the log scale
    assert "step 2" in how
    # and: strong curvature at the centre points says the optimum is inside: refused
    bowl = plane - 3 * (x["A"].abs() < 0.5)
    curved = analyse(x, bowl.to_numpy(), space)
    with pytest.raises(InputError, match="curvature"):
        next_centre(curved, space)


# --- the next stage's config, from an earlier sweep read back ---------------------------


def _earlier(config: SweepConfig, y: np.ndarray | None = None) -> EarlierSweep:
    plan = plan_sweep(config)
    y = y if y is not None else np.arange(len(plan.jobs), dtype=float)
    results = pd.DataFrame(
        {
            "point": range(len(plan.jobs)),
            "status": "completed",
            f"objective.{config.objective.metric}": y,
            # a later stage analyses the logged response (cv.<metric> when points cross-validate)
            f"metric.{plan.response(config.objective.metric)}": y,
        }
    )
    return EarlierSweep(
        run_id="a" * 32,
        sweep_id=plan.digest,
        run_name=plan.run_name,
        experiment="sweeps",
        config_json=config.resolved().model_dump_json(),
        results=results,
    )


def test_fold_over_stage_reuses_stage_one_configs_and_links_its_run() -> None:
    # given: the shipped study's first stage, read back
    config = load_sweep_config(STUDY)
    earlier = _earlier(config)
    # when
    stage2, said = next_stage(earlier, "fold_over")
    # then: the fold-over nests stage 1, whose points have the same training configs
    plan1, plan2 = plan_sweep(config), plan_sweep(stage2)
    assert stage2.design.kind == "fold_over" and len(plan2.jobs) == 16
    assert [j.config_digest for j in plan2.jobs[:8]] == [j.config_digest for j in plan1.jobs]
    assert stage2.study is not None and stage2.study.stage == 2
    assert stage2.study.stages[0].run_id == "a" * 32
    assert stage2.study.reuse_ids == [plan1.digest]
    assert "stage 2: fold-over" in said[0]


def test_on_and_factors_take_a_short_name_a_letter_or_a_key_and_name_the_argument() -> None:
    # given: the shipped study's first stage; its notes speak short names
    config = load_sweep_config(STUDY)
    earlier = _earlier(config)
    # when / then: the same factor, typed three ways
    for typed in ("learning_rate", "model.params.learning_rate", "a"):
        stage2, _ = next_stage(earlier, "fold_over", on=typed)
        assert stage2.design.factor == "model.params.learning_rate"  # type: ignore[union-attr]
    # and: a name that is no factor is refused, naming what the user typed
    with pytest.raises(InputError, match=r"^--on: 'learnin_rate' is not a factor of sweep"):
        next_stage(earlier, "fold_over", on="learnin_rate")
    stage2, _ = next_stage(earlier, "fold_over")
    with pytest.raises(InputError, match=r"^--factors: 'depth' is not a factor .*max_depth"):
        next_stage(_earlier(stage2), "augment", factors=["learning_rate", "depth"])


def test_augment_stage_chooses_the_active_factors_of_the_fold_over() -> None:
    config = load_sweep_config(STUDY)
    stage2, _ = next_stage(_earlier(config), "fold_over")
    plan2 = plan_sweep(stage2)
    x = plan2.design.coded
    names = list(x.columns)
    y = 0.4 + 0.05 * x[names[1]] - 0.08 * x[names[0]] * x[names[1]] + 0.03 * x[names[0]]
    y = y + 0.02 * x[names[0]] * x[names[2]]
    stage3, _ = next_stage(_earlier(stage2, y.to_numpy()), "augment")
    plan3 = plan_sweep(stage3)
    assert stage3.design.kind == "augment_ccd"
    assert set(plan3.design.active) <= set(names[:3]) and len(plan3.design.active) >= 2
    assert [j.config_digest for j in plan3.jobs[:16]] == [j.config_digest for j in plan2.jobs]
    assert stage3.study is not None and stage3.study.stage == 3
    assert [s.step for s in stage3.study.stages] == ["screen", "fold_over"]


@pytest.mark.parametrize(
    ("design", "step", "message"),
    [
        (
            {"kind": "fractional_factorial", "generator": "a b c d abc"},
            "fold_over",
            "--fold-over: sweep .* is of resolution IV.*separates nothing",
        ),
        ({"kind": "full_factorial"}, "fold_over", "--fold-over: .* a full factorial"),
        ({"kind": "box_behnken"}, "augment", "--augment: sweep .* is a box_behnken design"),
        ({"kind": "box_behnken"}, "fold_over", "--fold-over: sweep .* is a box_behnken design"),
        ({"kind": "full_factorial", "levels": 3}, "augment", "--augment: .* not a two-level"),
        ({"kind": "box_behnken"}, "next", "--next: sweep .* is a box_behnken design"),
    ],
)
def test_a_stage_that_cannot_follow_names_the_argument(
    design: dict[str, object], step: str, message: str
) -> None:
    data = load_sweep_config(STUDY).model_dump(mode="json")
    data["design"] = design
    config = SweepConfig.model_validate(data)
    with pytest.raises(InputError, match=message):
        next_stage(_earlier(config), step)  # type: ignore[arg-type]


def test_sweep_config_refuses_an_unknown_response_metric() -> None:
    data = load_sweep_config(STUDY).model_dump(mode="json")
    data["responses"] = [{"metric": "speed"}]
    with pytest.raises(ValueError, match="responses: unknown metric 'speed'"):
        SweepConfig.model_validate(data)


# --- cost metrics ------------------------------------------------------------------------


def test_cost_metrics_per_row_and_size() -> None:
    out = cost_metrics(1.5, 0.2, 100, serialized_size({"w": list(range(100))}))
    assert out["train_seconds"] == 1.5
    assert out["predict_ms_per_row"] == pytest.approx(2.0)
    assert out["model_size_bytes"] > 100
    assert serialized_size(lambda: 0) is None  # a lambda cannot be pickled: no size
    assert "train_seconds" not in cost_metrics(None, 0.1, 0, None)


def test_next_stage_recentres_the_design_along_steepest_ascent() -> None:
    # given: the screen read back with a plane rising in learning rate and trees
    config = load_sweep_config(STUDY)
    plan = plan_sweep(config)
    x = plan.design.coded
    y = 0.4 + 0.04 * x["model.params.learning_rate"] + 0.02 * x["model.params.n_estimators"]
    # when
    nxt, said = next_stage(_earlier(config, y.to_numpy()), "next")
    # then: the same design, each factor as wide as before, centred two steps along the path
    assert nxt.design == config.design and nxt.study is not None and nxt.study.step == "next"
    rate = next(f for f in nxt.factors if f.name == "model.params.learning_rate")
    assert rate.low == pytest.approx(0.2, rel=0.02)  # lr moved 2 coded units (a decade each)
    assert rate.high == pytest.approx(2.0, rel=0.02)
    trees = next(f for f in nxt.factors if f.name == "model.params.n_estimators")
    assert (trees.low, trees.high) == (50, 90)  # one coded unit up (half the lead's step)
    assert "steepest ascent" in said[0]
