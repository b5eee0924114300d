"""Augmenting an earlier design with D-optimal runs in a block of their own.

References: Goos & Jones, *Optimal Design of Experiments: A Case Study
Approach* (2011), ch. 3 "Adding runs to a screening experiment" (earlier runs
kept, new runs chosen for det(X'X) of the whole design with a block effect);
Montgomery, *Design and Analysis of Experiments*, 8th ed., 7.4 and 8.6 (the
2^3 in two blocks with ABC confounded; the fold-over of a half fraction).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_doe_study_stages import STUDY, _earlier

from flows.config.stages import next_stage
from flows.config.sweep import load_sweep_config, plan_sweep
from libs.doe import AugmentOptimal, FactorSpace, FractionalFactorial, generate_design
from libs.doe.augment import augment_optimal, model_matrix
from libs.doe.matrices import design_size
from libs.doe.optimal import candidate_set
from libs.errors import InputError


def space_of(*names: str) -> FactorSpace:
    return FactorSpace.model_validate(
        {"factors": [{"name": n, "type": "continuous", "low": -1, "high": 1} for n in names]}
    )


ABC = space_of("A", "B", "C")
# The 2^(3-1) half fraction I = +ABC (Montgomery 8.2)
HALF = pd.DataFrame(
    [[-1, -1, 1], [1, -1, -1], [-1, 1, -1], [1, 1, 1]], columns=list("ABC"), dtype=float
)


def _log_det(coded: pd.DataFrame, space: FactorSpace, model: str, blocks: list[int]) -> float:
    x = model_matrix(coded, space, model, blocks)
    sign, value = np.linalg.slogdet(x.T @ x)
    return value if sign > 0 else -math.inf


def test_a_half_fraction_is_completed_by_its_other_half_in_a_second_block() -> None:
    """Four runs added to the 2^(3-1) (I = ABC) for the model with every two-factor
    interaction and a block effect: the D-optimal choice is the other half (I = -ABC),
    the 2^3 in two blocks with ABC confounded with blocks (Montgomery 7.4), D-efficiency
    100% (all 8 columns orthogonal, +-1)."""
    # when
    stage = augment_optimal(HALF, ABC, 4, "interactions")
    # then
    added = stage.added.to_numpy()
    assert sorted(map(tuple, added)) == sorted(
        (a, b, c) for a in (-1.0, 1.0) for b in (-1.0, 1.0) for c in (-1.0, 1.0) if a * b * c < 0
    )
    assert stage.parameters == 8 and stage.d_efficiency == pytest.approx(100.0)


def test_d_optimal_runs_beat_runs_drawn_at_random_from_the_same_candidates() -> None:
    # given: a 2^(5-2) resolution III screen in five factors and 14 runs to add for the
    # quadratic model (22 parameters with the block effect)
    space = space_of(*"ABCDE")
    first = generate_design(space, FractionalFactorial(generator="a b c ab ac"))
    blocks = [1] * len(first) + [2] * 14
    # when
    stage = augment_optimal(first.coded, space, 14, "quadratic")
    chosen = _log_det(pd.concat([first.coded, stage.added]), space, "quadratic", blocks)
    # then: better than each of 100 random picks of 14 feasible candidates
    candidates = candidate_set(space)
    rng = np.random.default_rng(1)
    random = [
        _log_det(
            pd.concat([first.coded, candidates.iloc[rng.choice(len(candidates), 14)]]),
            space,
            "quadratic",
            blocks,
        )
        for _ in range(100)
    ]
    assert chosen > max(random)


def test_the_earlier_runs_are_kept_and_the_new_ones_form_the_next_block() -> None:
    # given: a definitive screening design (any earlier design qualifies)
    space = space_of(*"ABCD")
    spec = AugmentOptimal(first={"kind": "definitive_screening"}, runs=8, model="quadratic")  # type: ignore[arg-type]
    first = generate_design(space, spec.first)
    # when
    design = generate_design(space, spec)
    # then
    assert len(design) == len(first) + 8 == design_size(space, spec)
    pd.testing.assert_frame_equal(design.coded.iloc[: len(first)], first.coded)
    assert design.block == (1,) * len(first) + (2,) * 8
    assert design.notes[0].startswith("stage 2: 8 D-optimal runs for the quadratic model")


def test_new_runs_in_some_factors_hold_the_others_and_honour_the_constraints() -> None:
    # given: an earlier optimal design with a constraint in natural units
    space = space_of(*"ABC")
    first = {"kind": "optimal", "runs": 6, "constraints": ["A + B <= 0.5"]}
    spec = AugmentOptimal(
        first=first, runs=6, model="interactions", factors=["A", "B"], hold={"C": 0.5}
    )  # type: ignore[arg-type]
    # when
    design = generate_design(space, spec)
    # then: the new runs keep C at 0.5 and A + B <= 0.5 (the earlier design's constraint)
    added = design.frame.iloc[6:]
    assert (added["C"] == 0.5).all()
    assert ((added["A"] + added["B"]) <= 0.5 + 1e-9).all()
    assert design.active == ("A", "B")


def test_a_budget_below_what_the_model_lacks_is_refused_in_one_line() -> None:
    # the 4 half-fraction runs estimate 4 of the 8 parameters: 3 new runs cannot complete them
    with pytest.raises(InputError, match=r"^design.runs: 3 new run\(s\) cannot .* give runs >= 4$"):
        augment_optimal(HALF, ABC, 3, "interactions")


def test_augment_stage_to_optimal_reuses_the_screen_and_names_bad_arguments() -> None:
    # given: the shipped study's first stage (a 2^(5-2)), read back
    config = load_sweep_config(STUDY)
    earlier = _earlier(config)
    # when
    stage2, said = next_stage(
        earlier, "augment", to="optimal", runs=12, model="interactions", factors=["a", "b", "c"]
    )
    # then: the 8 screening runs keep their training configs (reused, not retrained)
    plan1, plan2 = plan_sweep(config), plan_sweep(stage2)
    assert [j.config_digest for j in plan2.jobs[:8]] == [j.config_digest for j in plan1.jobs]
    assert len(plan2.jobs) == 20 and plan2.design.block == (1,) * 8 + (2,) * 12
    assert stage2.design.kind == "augment_optimal"
    assert said[0].startswith("stage 2: 12 D-optimal runs for the interactions model")
    assert "the added runs hold min_samples_leaf=" in said[1]
    # and: bad input names the command-line argument
    with pytest.raises(InputError, match=r"^--runs: 2 new run\(s\) cannot complete"):
        next_stage(earlier, "augment", to="optimal", runs=2)
    with pytest.raises(InputError, match=r"^--runs: --augment --to optimal needs"):
        next_stage(earlier, "augment", to="optimal")
    # and: an optimal augmentation is not itself augmented again (augment its first stage)
    with pytest.raises(InputError, match=r"^--augment: the sweep is itself an optimal augm"):
        next_stage(_earlier(stage2), "augment", to="optimal", runs=3)
