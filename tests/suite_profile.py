"""Where the suite's time goes: wall and CPU per test, set-up apart from the test itself.

A pytest plugin (tests/conftest.py loads it) that does nothing unless
`MLOPS_TEST_PROFILE` names a file. Then every test appends one JSON line:
its set-up, call and teardown walls, the CPU this worker spent on it, and
the CPU of the processes it started and waited for (command lines, servers
a test stops and reaps). Servers that outlive a test in the background are
not children anyone waits for and are not counted. Several xdist workers
append to the same file (one short write a line). `python -m
benchmarks.suite_profile FILE` reads it.
"""

from __future__ import annotations

import json
import os
import resource
from collections.abc import Iterator
from typing import Any

import pytest

PROFILE_ENV = "MLOPS_TEST_PROFILE"
_PROFILE = os.environ.get(PROFILE_ENV)
_PHASES = pytest.StashKey[dict[str, float]]()


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    yield
    if _PROFILE:
        item.stash.setdefault(_PHASES, {})[call.when] = call.duration


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not _PROFILE:
        yield
        return
    own, children = _cpu()
    yield
    own_after, children_after = _cpu()
    phases = item.stash.get(_PHASES, {})
    line = {
        "test": item.nodeid,
        "setup": round(phases.get("setup", 0.0), 3),
        "call": round(phases.get("call", 0.0), 3),
        "teardown": round(phases.get("teardown", 0.0), 3),
        "cpu": round(own_after - own, 3),
        "cpu_children": round(children_after - children, 3),
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "load": round(os.getloadavg()[0], 2),
    }
    fd = os.open(_PROFILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


__all__ = ["PROFILE_ENV"]
