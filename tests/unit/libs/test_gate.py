"""The quality gate: threshold, champion comparison, direction of the metric."""

from __future__ import annotations

import json
import math

import pytest

from libs.gate import GateSpec, decide, gate_line, read_gate_line


def test_first_model_passing_threshold_is_promoted() -> None:
    d = decide(GateSpec(threshold=0.9), metric="accuracy", greater_is_better=True, candidate=0.95)
    assert d.passed_threshold and d.beats_champion and d.promote
    assert "no champion yet" in d.reason


def test_below_threshold_is_not_promoted_even_without_champion() -> None:
    d = decide(GateSpec(threshold=0.9), metric="accuracy", greater_is_better=True, candidate=0.85)
    assert not d.passed_threshold and not d.promote
    assert "accuracy 0.8500 fails >= 0.9" in d.reason


def test_must_beat_champion() -> None:
    spec = GateSpec(threshold=0.5)
    worse = decide(
        spec,
        metric="f1_macro",
        greater_is_better=True,
        candidate=0.80,
        champion=0.90,
        champion_version="3",
    )
    tie = decide(
        spec,
        metric="f1_macro",
        greater_is_better=True,
        candidate=0.90,
        champion=0.90,
        champion_version="3",
    )
    better = decide(
        spec,
        metric="f1_macro",
        greater_is_better=True,
        candidate=0.91,
        champion=0.90,
        champion_version="3",
    )
    assert (worse.promote, tie.promote, better.promote) == (False, False, True)
    assert "does not beat champion v3 (0.9000)" in worse.reason


def test_lower_is_better_metrics_flip_both_comparisons() -> None:
    spec = GateSpec(threshold=10.0)
    ok = decide(
        spec,
        metric="rmse",
        greater_is_better=False,
        candidate=8.0,
        champion=9.0,
        champion_version="1",
    )
    too_high = decide(spec, metric="rmse", greater_is_better=False, candidate=11.0)
    assert ok.promote
    assert not too_high.passed_threshold
    assert "fails <= 10.0" in too_high.reason


def test_min_improvement() -> None:
    spec = GateSpec(min_improvement=0.02)
    small = decide(
        spec,
        metric="r2",
        greater_is_better=True,
        candidate=0.81,
        champion=0.80,
        champion_version="2",
    )
    enough = decide(
        spec,
        metric="r2",
        greater_is_better=True,
        candidate=0.83,
        champion=0.80,
        champion_version="2",
    )
    assert not small.promote and enough.promote


def test_comparison_can_be_switched_off() -> None:
    d = decide(
        GateSpec(compare_to_champion=False),
        metric="r2",
        greater_is_better=True,
        candidate=0.1,
        champion=0.9,
    )
    assert d.promote


def test_nan_candidate_never_passes() -> None:
    d = decide(GateSpec(), metric="r2", greater_is_better=True, candidate=math.nan)
    assert not d.promote


def test_decision_as_one_tag_and_a_json_record() -> None:
    # given a decision that promotes over champion v1
    d = decide(
        GateSpec(threshold=0.5),
        metric="accuracy",
        greater_is_better=True,
        candidate=0.7,
        champion=0.6,
        champion_version="1",
        candidate_interval=(0.65, math.nan),
    )
    # when it is written as the version's one tag and the run's JSON record
    line = gate_line(d.promote, d.reason)
    record = json.loads(json.dumps(d.as_record(), allow_nan=False))
    # then the tag reads as a sentence and reads back, and the record keeps every field
    assert line == "promoted: accuracy 0.7000 >= 0.5; beats champion v1 (0.6000)"
    assert read_gate_line(line) == (True, d.reason)
    assert read_gate_line(gate_line(False, "a\n b")) == (False, "a b")
    assert gate_line(True, "no threshold; no champion yet", "r2", 0.47) == (
        "promoted: r2 0.4700, no threshold; no champion yet"
    )
    assert gate_line(True, d.reason, "accuracy", 0.7) == line
    assert record["promote"] is True and record["metric"] == "accuracy"
    assert record["candidate"] == pytest.approx(0.7) and record["champion_version"] == "1"
    assert record["interval"] == [0.65, None]


def test_default_metric_follows_task() -> None:
    assert GateSpec().metric_for("classification") == "accuracy"
    assert GateSpec().metric_for("regression") == "r2"
    assert GateSpec(metric="mae").metric_for("regression") == "mae"


def test_a_champion_without_a_value_is_never_beaten_by_default() -> None:
    # given: a champion exists but its metric could not be read
    d = decide(
        GateSpec(),
        metric="accuracy",
        greater_is_better=True,
        candidate=0.99,
        champion=None,
        champion_version="4",
    )
    # then: nothing was compared, so the alias stays where it is
    assert d.passed_threshold and not d.beats_champion and not d.promote
    assert "champion v4 has no accuracy" in d.reason


@pytest.mark.parametrize(
    ("greater", "candidate", "interval", "champion", "promote"),
    [
        (True, 0.95, (0.93, 0.97), 0.92, True),  # the whole interval above the champion
        (True, 0.95, (0.90, 0.99), 0.92, False),  # better, but within the noise
        (True, 0.95, None, 0.92, False),  # no interval: cannot be checked, not promoted
        (False, 0.10, (0.08, 0.12), 0.15, True),  # lower is better: upper bound below
        (False, 0.10, (0.05, 0.16), 0.15, False),
    ],
)
def test_beyond_interval_needs_the_interval_clear_of_the_champion(
    greater, candidate, interval, champion, promote
) -> None:
    # given
    spec = GateSpec(beyond_interval=True)
    # when
    decision = decide(
        spec,
        metric="m",
        greater_is_better=greater,
        candidate=candidate,
        champion=champion,
        champion_version="1",
        candidate_interval=interval,
    )
    # then
    assert decision.promote is promote
    assert "95% interval" in decision.reason


def test_beyond_interval_is_off_by_default_and_ignores_the_interval() -> None:
    # given / when
    decision = decide(
        GateSpec(),
        metric="m",
        greater_is_better=True,
        candidate=0.95,
        champion=0.92,
        champion_version="1",
        candidate_interval=(0.5, 0.99),
    )
    # then
    assert decision.promote
