"""A sample of requests and their predictions, appended to storage as Parquet, off the
request path.

The request handler only draws the sample and puts the rows on a queue (no I/O);
a background thread collects them and writes one Parquet file per batch, when a
batch is full or a few seconds old, under
`<storage root>/requests/<model>/date=YYYY-MM-DD/` (a local folder, or the S3
bucket of the storage block, reached with the block's credentials). A full queue drops the
sample (counted), never slows a request; a failed write is counted and logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from libs.io import join_key, write_table
from libs.serving.payload import predictions_list

log = logging.getLogger(__name__)
VERSION_COLUMN = "model_version"
PREDICTION_COLUMN = "prediction"
TIME_COLUMN = "received_at"
# One kept request as the handler left it: input frame, predictions, version, time.
_Sample = tuple[pd.DataFrame, Any, str, dt.datetime]


def _rows(sample: _Sample) -> pd.DataFrame:
    frame, predictions, version, at = sample
    values = predictions_list(predictions)
    return frame.reset_index(drop=True).assign(
        **{
            PREDICTION_COLUMN: [str(v) if isinstance(v, dict | list) else v for v in values],
            VERSION_COLUMN: version,
            TIME_COLUMN: at,
        }
    )


def request_log_uri(storage_root: str, model: str) -> str:
    """Where the sampled requests of `model` go (one folder per day below it)."""
    return join_key(storage_root, f"requests/{re.sub(r'[^A-Za-z0-9_.-]', '_', model)}")


@dataclass
class RequestLog:
    """Sampled requests, batched and written by one background thread.

    `rate` is the share of requests kept (1.0 all, 0 none); `storage_options` are the
    fsspec options of the storage block (credentials, endpoint) for an s3:// root, so
    the log goes where the run's data goes with the same credentials; `write` is
    swappable for tests but defaults to `libs.io.write_table`.
    """

    root_uri: str
    rate: float = 1.0
    storage_options: dict[str, Any] | None = field(default=None, repr=False)
    batch_rows: int = 1000
    batch_seconds: float = 5.0
    max_queued: int = 10_000
    write: Callable[[pd.DataFrame, str, dict[str, Any] | None], Any] = write_table
    seed: int | None = None
    written_files: int = 0
    written_rows: int = 0
    dropped: int = 0
    failed_writes: int = 0
    _queue: queue.Queue[_Sample | None] = field(init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"request log rate must be within [0, 1], got {self.rate}")
        self._queue = queue.Queue(maxsize=self.max_queued)
        self._random = random.Random(self.seed)

    def start(self) -> RequestLog:
        if self.rate > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
            self._thread.start()
        return self

    def offer(self, frame: pd.DataFrame, predictions: Any, version: str) -> None:
        """Keep this request with probability `rate`; never blocks, never does I/O.

        Only a reference to the request goes on the queue: its rows are built by
        the writer thread.
        """
        if self._thread is None or self._random.random() >= self.rate:
            return
        try:
            self._queue.put_nowait((frame, predictions, version, dt.datetime.now(dt.UTC)))
        except queue.Full:
            self.dropped += len(frame)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the thread."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        pending: list[pd.DataFrame] = []
        rows = 0
        started = time.monotonic()
        while True:
            wait = max(0.05, self.batch_seconds - (time.monotonic() - started))
            sample: _Sample | bool | None
            try:
                sample = self._queue.get(timeout=wait)
            except queue.Empty:
                sample = False  # a tick: time to write what waits
            stop = sample is None
            if isinstance(sample, tuple):
                try:
                    item = _rows(sample)
                except Exception as exc:  # predictions that do not fit one per row
                    log.warning("request log: a request not kept: %s", exc)
                else:
                    pending.append(item)
                    rows += len(item)
            old = time.monotonic() - started >= self.batch_seconds
            if pending and (stop or rows >= self.batch_rows or old):
                self._flush(pending)
                pending, rows = [], 0
            if old or not pending:
                started = time.monotonic()
            if stop:
                return

    def _flush(self, frames: list[pd.DataFrame]) -> None:
        batch = pd.concat(frames, ignore_index=True)
        now = dt.datetime.now(dt.UTC)
        key = f"date={now:%Y-%m-%d}/{now:%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"
        try:
            self.write(batch, join_key(self.root_uri, key), self.storage_options)
        except Exception as exc:  # a storage outage must not end the server
            self.failed_writes += 1
            log.warning("request log: could not write %d rows: %s", len(batch), exc)
            return
        self.written_files += 1
        self.written_rows += len(batch)


__all__ = ["PREDICTION_COLUMN", "TIME_COLUMN", "VERSION_COLUMN", "RequestLog", "request_log_uri"]
