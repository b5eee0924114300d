"""The sweep's worker processes: other processes, at the same time, surviving a dead worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from deployments.runtime.pool import WorkerPool, process_pool, start_method

WAIT_S = 60.0


def meet(folder: str, me: str, other: str) -> int:
    """Say `me` is here, then wait for `other`: both return only if they run at once."""
    Path(folder, me).touch()
    deadline = time.monotonic() + WAIT_S
    while not Path(folder, other).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} never ran while {me} waited")
        time.sleep(0.01)
    return os.getpid()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def square(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


FORK_IN_A_FRESH_PROCESS = """
import os, sys, tempfile
sys.path.insert(0, sys.argv[1])
from test_worker_pool import meet
from deployments.runtime.pool import process_pool
folder = tempfile.mkdtemp()
with process_pool(2, method="fork") as pool:
    first = pool.submit(meet, folder, "a", "b")
    second = pool.submit(meet, folder, "b", "a")
    pids = {first.result(timeout=120), second.result(timeout=120)}
print(pool.method, len(pids), os.getpid() in pids)
"""


def test_two_forked_workers_run_two_tasks_at_once_in_other_processes() -> None:
    # given: a process with no other thread (as the command line is when it forks)
    # when: a fork pool of two runs two tasks that each wait for the other
    done = subprocess.run(
        [sys.executable, "-c", FORK_IN_A_FRESH_PROCESS, str(Path(__file__).parent)],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # then: both finished, in two forked processes that are not the caller
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["fork", "2", "False"]


def test_two_fork_server_workers_run_two_tasks_at_once_in_other_processes(
    tmp_path: Path,
) -> None:
    # given: a pool of two workers started through a fork server (this process has threads)
    with process_pool(2, method="forkserver") as pool:
        # when: two tasks that each wait for the other
        first = pool.submit(meet, str(tmp_path), "a", "b")
        second = pool.submit(meet, str(tmp_path), "b", "a")
        pids = {first.result(timeout=WAIT_S * 2), second.result(timeout=WAIT_S * 2)}
    # then: both finished, in two processes that are not this one
    assert pool.method == "forkserver"
    assert len(pids) == 2
    assert os.getpid() not in pids


def test_a_dead_worker_fails_its_task_and_the_next_task_gets_new_workers() -> None:
    # given
    with process_pool(2) as pool:
        # when: a task kills its worker
        doomed = pool.submit(die)
        with pytest.raises(BrokenProcessPool):
            doomed.result(timeout=WAIT_S)
        # then: later tasks still run, on new workers
        value, pid = pool.submit(square, 7).result(timeout=WAIT_S)
    assert value == 49
    assert pid != os.getpid()


def test_fork_is_chosen_only_while_this_process_has_one_thread() -> None:
    # given: another thread alive
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        # when / then: forking now could copy a held lock, so the pool uses a fork server
        assert start_method() == "forkserver"
    finally:
        stop.set()
        other.join()


def test_a_pool_of_no_workers_still_has_one() -> None:
    # given / when
    pool = WorkerPool(0)
    try:
        value, _ = pool.submit(square, 3).result(timeout=WAIT_S)
    finally:
        pool.shutdown()
    # then
    assert pool.workers == 1
    assert value == 9
