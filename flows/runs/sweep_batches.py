"""How a sweep's points train: in batches (a path stops at the first that does not
improve), each batch collected as its points finish, with listeners told of each."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from prefect.futures import as_completed

from flows.config.sweep import PointJob, SweepPlan
from flows.runs.point_training import error_line
from libs.doe.sweep import PointResult

ProgressCallback = Callable[[Any], None]
_listeners: list[ProgressCallback] = []
_listeners_lock = threading.Lock()


@contextlib.contextmanager
def on_point_done(callback: ProgressCallback) -> Iterator[None]:
    """Call `callback(PointResult)` as each point of a sweep in this process finishes."""
    with _listeners_lock:
        _listeners.append(callback)
    try:
        yield
    finally:
        with _listeners_lock:
            _listeners.remove(callback)


SKIPPED = "skipped"


def batches(plan: SweepPlan) -> list[list[PointJob]]:
    """The points in the batches they train in: a path's in batches of `concurrency`."""
    if plan.design.kind != "path" or plan.config.runs is None:
        return [plan.jobs]
    new = plan.config.runs.new
    earlier, own = plan.jobs[: len(plan.jobs) - new], plan.jobs[len(plan.jobs) - new :]
    size = max(1, plan.concurrency)
    chunks = [own[i : i + size] for i in range(0, len(own), size)]
    if earlier:
        chunks[0] = earlier + chunks[0]
    return chunks


def path_stops(before: list[PointResult], batch: list[PointResult], maximize: bool) -> str:
    """Why a path stops after `batch` ("" to go on): no run of it beats the best before it."""
    sign = 1.0 if maximize else -1.0
    prior = [sign * float(r.objective) for r in before if r.ok and r.objective is not None]
    now = [sign * float(r.objective) for r in batch if r.ok and r.objective is not None]
    if not before:
        return "" if now else "the first runs of the path failed"
    if not now:
        return "a batch of the path failed"
    if prior and max(now) <= max(prior):
        return f"the response stopped improving after run {len(before) - 1}"
    return ""


def skipped(plan: SweepPlan, results: list[PointResult], why: str) -> list[PointResult]:
    """The path's runs left untrained, recorded as skipped (not failed)."""
    ran = {r.index for r in results}
    return [
        PointResult(j.index, j.point, SKIPPED, error=f"not run: {why}")
        for j in plan.jobs
        if j.index not in ran
    ]


def collect(
    futures: list[Any], jobs: list[PointJob], on_result: ProgressCallback | None = None
) -> list[PointResult]:
    """Results in design order, telling listeners (and `on_result`) as each point finishes."""
    job_of = {id(f): j for f, j in zip(futures, jobs, strict=True)}
    results = []
    for future in as_completed(futures):
        job = job_of[id(future)]
        try:
            result = future.result()
        except Exception as exc:  # the point's bookkeeping failed, not only its training
            result = PointResult(job.index, job.point, "failed", error=error_line(exc))
        results.append(result)
        with _listeners_lock:
            listeners = list(_listeners)
        for callback in [*listeners, *([on_result] if on_result else [])]:
            callback(result)
    return sorted(results, key=lambda r: r.index)


__all__ = ["SKIPPED", "batches", "collect", "on_point_done", "path_stops", "skipped"]
