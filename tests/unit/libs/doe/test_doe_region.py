"""Proposals outside the factor ranges are marked, with the distance in coded units
(issue 33): the path of steepest ascent (as runs and in the analysis) and a recommendation.

Montgomery, Design and Analysis of Experiments (9th ed.), Example 11.1: the path from
(35 min, 155 F) moves time 5 min (one coded unit) a step, so step 1 reaches the edge of
the region (40 min) and step 2 (45 min) is one coded unit beyond it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from doe_textbook import CODED_11_1, SPACE_11_1, Y_11_1

from libs.doe import analyse, steepest_ascent_path
from libs.doe.names import beyond, region_words
from libs.doe.recommend import recommend


def test_distance_beyond_the_ranges_in_coded_units() -> None:
    assert beyond({"a": 0.5, "b": -1.0}) == 0.0
    assert beyond({"a": 3.0, "b": 0.0}) == pytest.approx(2.0)
    assert beyond({"a": 2.0, "b": -2.0}) == pytest.approx(np.sqrt(2))
    assert region_words({"a": 0.2}) == ""
    assert region_words({"a": 2.5, "b": 0.3}) == (
        "outside the factor ranges by 1.5 coded units (a at +2.50 coded)"
    )


def test_path_steps_beyond_the_region_say_so_montgomery_11_1() -> None:
    # when
    path = steepest_ascent_path(CODED_11_1, Y_11_1, SPACE_11_1, steps=4, step_digits=1)
    # then: steps 0-1 inside (step 1 on the edge), from step 2 outside, distance growing
    assert list(path.table["region"][:2]) == ["inside", "inside"]
    assert path.leaves_region == 2
    assert path.table["beyond (coded)"].iloc[2] == pytest.approx(1.0)
    # step 4: time 55 min (+4 coded, 3 beyond), temp 163 F (+1.6 coded, 0.6 beyond)
    assert path.table["beyond (coded)"].iloc[4] == pytest.approx(np.hypot(3.0, 0.6))
    assert path.table["region"].iloc[4] == (
        "outside the factor ranges by 3.1 coded units (time at +4.00 coded, temp at +1.60 coded)"
    )
    assert path.region_note().startswith("from step 2 the path leaves the factor ranges")


def test_analysis_path_table_marks_extrapolation() -> None:
    # when: the same runs through the analysis
    result = analyse(CODED_11_1, Y_11_1, SPACE_11_1)
    # then
    assert result.steepest is not None and "region" in result.steepest
    assert any("the path leaves the factor ranges at step 2" in n for n in result.notes)


def test_best_run_outside_the_ranges_is_marked() -> None:
    # given: a CCD-like set of runs whose best run is an axial point at +1.68 in x
    coded = pd.DataFrame(
        [[-1, -1], [1, -1], [-1, 1], [1, 1], [1.68, 0], [-1.68, 0], [0, 0], [0, 0]],
        columns=["time", "temp"],
        dtype=float,
    )
    y = [1.0, 1.1, 0.9, 1.05, 3.0, 0.5, 1.0, 1.02]  # nothing a model explains well
    # when
    rec = recommend(coded, y, SPACE_11_1)
    # then: the best run (the model shows lack of fit) is the axial one, and it says so
    assert rec.source == "best run" and rec.coded == {"time": 1.68, "temp": 0.0}
    assert rec.reason.endswith(
        "It lies outside the factor ranges by 0.68 coded units (time at +1.68 coded): "
        "a run made there."
    )
