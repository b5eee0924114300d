"""flows.api keeps a study's point workers from one stage to the next (issue 31).

A new set of workers per stage cost a fork server's imports and each worker
opening the tracking store again: about 10 s a stage on two cores, more than
the fits of a small stage. Real processes, nothing mocked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import api
from flows.config.sweep import SweepConfig, plan_sweep
from libs.settings import PlatformSettings


def _plan(workers: str = "processes") -> object:
    return plan_sweep(
        SweepConfig.model_validate(
            {
                "train": {"data": {"source": "iris"}, "model": {"name": "logistic_regression"}},
                "factors": [
                    {"name": "model.params.C", "type": "continuous", "low": 0.1, "high": 1}
                ],
                "design": {"kind": "full_factorial"},
                "objective": {"metric": "accuracy"},
                "concurrency": 2,
                "workers": workers,
            }
        )
    )


@pytest.mark.slow
def test_a_later_stage_reuses_the_workers_and_a_concurrent_one_gets_its_own(
    platform_home: Path,
) -> None:
    # given: the plan of a stage whose points train in two worker processes
    plan, settings = _plan(), PlatformSettings()
    try:
        with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
            # when: two stages one after the other, and one while another holds the workers
            with api._point_workers(plan, settings) as first:
                pids = {first.submit(os.getpid).result() for _ in range(6)}
                with api._point_workers(plan, settings) as beside:
                    other = {beside.submit(os.getpid).result() for _ in range(6)}
            with api._point_workers(plan, settings) as later:
                again = {later.submit(os.getpid).result() for _ in range(6)}
            # then: the later stage ran on the same two processes; the concurrent one on others
            assert later is first and len(pids | again) <= 2
            assert beside is not first and not other & (pids | again)
            assert os.getpid() not in pids | other
        # and: a stage on another Prefect server gets new workers (a worker keeps its client)
        with (
            temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:10/api"}),
            api._point_workers(plan, settings) as moved,
        ):
            assert moved is not first
            assert not {moved.submit(os.getpid).result() for _ in range(4)} & pids
    finally:
        api._close_workers()


def test_threads_need_no_workers(platform_home: Path) -> None:
    with api._point_workers(_plan("threads"), PlatformSettings()) as executor:
        assert executor is None
