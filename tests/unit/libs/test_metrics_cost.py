"""What a model costs (libs.metrics.cost): the latency is a median of repeated timings."""

from __future__ import annotations

import time

from libs.metrics.cost import median_seconds


def test_the_latency_is_the_median_so_one_slow_timing_does_not_move_it() -> None:
    calls: list[int] = []

    def predict() -> None:
        calls.append(1)

    # given: the first prediction stalled (a busy machine), the repeats did not
    median = median_seconds(predict, first=5.0, repeats=5, budget=1.0)
    assert len(calls) == 4  # five timings in all
    assert median < 0.01


def test_a_slow_model_is_timed_fewer_times_within_the_budget() -> None:
    calls: list[int] = []

    def predict() -> None:
        calls.append(1)
        time.sleep(0.06)

    median = median_seconds(predict, first=0.06, repeats=5, budget=0.1)
    assert len(calls) == 2  # stopped once the repeats took longer than the budget
    assert 0.05 < median < 0.5
