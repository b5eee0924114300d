"""Worker processes with the imports done: a sweep's points run in parallel, not in threads.

A sweep point's work (the fit, metrics, MLflow and Prefect calls) is Python
code that holds the GIL, so threads run about one point at a time whatever
`concurrency` says. `process_pool(n)` gives an executor of `n` processes that
have already imported what a point needs:

- **fork**, when the calling process has no other thread yet (a command
  line run, in the warm worker's child that already holds the imports): each
  worker is a copy of the caller, made before any thread, connection or lock
  exists in it. SQLAlchemy engines the caller opened (an MLflow store) are
  dropped in the copy, so no SQLite connection is shared between processes.
- **forkserver** otherwise (a process with threads: a Prefect worker running
  the deployed sweep, a test session): a fresh server process imports the
  `preload` modules once, and each worker is forked from it.

Either way a task should carry what it depends on (environment, working
directory, settings) rather than rely on the worker's inherited state: a
forkserver worker's is that of the moment its server started.

The workers' log lines are written by the caller's own log handlers (its
terminal, around a progress bar, and its log file), through a queue.

If a worker dies (killed, out of memory), the tasks it and its siblings were
running fail with `BrokenProcessPool`; the next `submit` starts a new set of
workers (forkserver: this process has threads by then), so the rest of the
sweep goes on.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

_FORKSERVER_STARTED = False


def _worker_init(forked: bool, log_queue: Any, keep: Callable[[logging.Handler], bool]) -> None:
    """In each new worker: its log lines go to the caller, and (forked) no shared connection."""
    _die_with_parent()
    if log_queue is not None:
        _send_logs_to(log_queue, keep)
    if forked:
        _after_fork_in_worker()


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when its parent (the caller, or the fork
    server, which ends with the caller) dies, so a killed sweep leaves no worker behind."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _send_logs_to(log_queue: Any, keep: Callable[[logging.Handler], bool]) -> None:
    """Replace the worker's log handlers (all but those `keep` names) by one that queues.

    The caller writes them (`_LogRelay`): to its terminal, around its progress
    bar, and to its log file, as if the worker's lines were its own.
    """
    import logging.handlers

    relay = logging.handlers.QueueHandler(log_queue)
    named = [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in [logging.getLogger(), *named]:
        forwarded = [h for h in logger.handlers if not keep(h)]
        if forwarded:
            logger.handlers = [h for h in logger.handlers if keep(h)] + [relay]


class _LogRelay:
    """In the caller: hand the workers' log records to its own handlers (not `keep`'s)."""

    def __init__(self, log_queue: Any, keep: Callable[[logging.Handler], bool]) -> None:
        self.queue, self.keep = log_queue, keep
        self.thread = threading.Thread(target=self._run, name="worker-logs", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                record = self.queue.get()
            except (EOFError, OSError):
                return
            if record is None:
                return
            self._handle(record)

    def _handle(self, record: logging.LogRecord) -> None:
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            for handler in logger.handlers:
                if not self.keep(handler) and record.levelno >= handler.level:
                    with contextlib.suppress(Exception):
                        handler.handle(record)
            logger = logger.parent if logger.propagate else None

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.queue.put(None)
        self.thread.join(timeout=5)


def _keep_nothing(_handler: logging.Handler) -> bool:
    return False


def _after_fork_in_worker() -> None:
    """In a forked worker: forget the caller's database connections (never share them)."""
    import gc
    import sys

    engine_module = sys.modules.get("sqlalchemy.engine")
    if engine_module is None:
        return
    engine_type = getattr(engine_module, "Engine", None)
    if engine_type is None:
        return
    for obj in gc.get_objects():
        if isinstance(obj, engine_type):
            with contextlib.suppress(Exception):
                obj.dispose(close=False)  # the caller keeps its connections; this copy drops them


def start_method() -> str:
    """`fork` while this process has a single thread, else `forkserver`."""
    return "fork" if threading.active_count() == 1 else "forkserver"


class WorkerPool(Executor):
    """A process pool that replaces itself when a worker dies; see the module docstring."""

    def __init__(
        self,
        workers: int,
        preload: Sequence[str] = (),
        method: str | None = None,
        keep_handler: Callable[[logging.Handler], bool] | None = None,
    ) -> None:
        self.workers = max(1, workers)
        self.preload = tuple(preload)
        self.method = ""
        self._chosen = method  # None: `start_method()` at each (re)start
        # Log handlers that stay in the workers (module-level, to reach a fork server);
        # the workers' other log lines are written by this process's handlers.
        self._keep = keep_handler or _keep_nothing
        self._relays: list[_LogRelay] = []
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._retired: list[ProcessPoolExecutor] = []
        self._start()

    def _start(self) -> None:
        global _FORKSERVER_STARTED
        method = self._chosen or start_method()
        self._chosen = None  # a replacement after a dead worker chooses again
        context = multiprocessing.get_context(method)
        if method == "forkserver" and not _FORKSERVER_STARTED:
            # Set once: the server process is started on first use and then kept.
            context.set_forkserver_preload(list(self.preload))
            _FORKSERVER_STARTED = True
        log_queue = context.Queue()
        self._relays.append(_LogRelay(log_queue, self._keep))
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_worker_init,
            initargs=(method == "fork", log_queue, self._keep),
        )
        if method == "fork":
            # A fork pool starts all its workers at the first submit: do it now,
            # while this process is still single-threaded.
            pool.submit(os.getpid)
        self._pool, self.method = pool, method

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            assert self._pool is not None
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:  # a worker died: the rest run on new workers
                self._retired.append(self._pool)
                self._start()
                return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            for pool in [*self._retired, *([self._pool] if self._pool else [])]:
                pool.shutdown(wait=wait, cancel_futures=cancel_futures)
            self._retired.clear()
            for relay in self._relays:  # after the workers: their last lines are written
                relay.stop()
            self._relays.clear()


@contextlib.contextmanager
def process_pool(
    workers: int,
    preload: Sequence[str] = (),
    method: str | None = None,
    keep_handler: Callable[[logging.Handler], bool] | None = None,
) -> Iterator[WorkerPool]:
    """`workers` processes with `preload` imported; shut down (waiting) at the end.

    `method` ("fork" or "forkserver") overrides the choice `start_method` makes.
    The workers' log lines are written by this process's handlers, except for
    the handlers `keep_handler` names, which stay in the workers (a handler
    that sends a run's lines to an API from where the run is).
    """
    pool = WorkerPool(workers, preload, method, keep_handler)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["WorkerPool", "process_pool", "start_method"]
