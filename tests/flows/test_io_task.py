"""The one I/O task decorator: transient failures are retried, bad input is not."""

from __future__ import annotations

import pytest
from prefect import flow

from libs.errors import InputError
from tasks._common import IO_RETRIES, IO_RETRY_DELAYS, io_task


def test_a_transient_failure_is_retried_until_it_passes() -> None:
    # given: a task that fails twice, then works
    attempts: list[int] = []

    @io_task("flaky-read")
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError("connection reset")
        return "read"

    @flow
    def run() -> str:
        return flaky.with_options(retry_delay_seconds=0)()

    # when
    result = run()
    # then
    assert result == "read"
    assert len(attempts) == 3


def test_a_failure_that_lasts_is_tried_once_plus_the_retries() -> None:
    # given
    attempts: list[int] = []

    @io_task("dead-store")
    def dead() -> None:
        attempts.append(1)
        raise OSError("no route to host")

    @flow
    def run() -> None:
        dead.with_options(retry_delay_seconds=0)()

    # when / then
    with pytest.raises(OSError, match="no route"):
        run()
    assert len(attempts) == 1 + IO_RETRIES


def test_bad_input_is_never_retried() -> None:
    # given
    attempts: list[int] = []

    @io_task("bad-input")
    def bad() -> None:
        attempts.append(1)
        raise InputError("data.path: no such file")

    @flow
    def run() -> None:
        bad.with_options(retry_delay_seconds=0)()

    # when / then
    with pytest.raises(InputError, match="no such file"):
        run()
    assert attempts == [1]


def test_a_server_that_refuses_connections_is_not_waited_on() -> None:
    # given: a client that already retried (as MLflow's does) and still found nothing listening
    attempts: list[int] = []

    @io_task("dead-tracking-server")
    def log() -> None:
        attempts.append(1)
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused:
            raise RuntimeError(
                "API request to http://127.0.0.1:5000/api/2.0/mlflow/runs/create failed"
            ) from refused

    @flow
    def run() -> None:
        log.with_options(retry_delay_seconds=0)()

    # when / then: one try, the error as the client gave it
    with pytest.raises(RuntimeError, match="runs/create failed"):
        run()
    assert attempts == [1]


def test_the_decorator_carries_the_shared_retry_settings_and_extra_options() -> None:
    # when
    from prefect.cache_policies import NO_CACHE

    @io_task("write-out", cache_policy=NO_CACHE)
    def write() -> None:
        return None

    # then
    assert write.name == "write-out"
    assert write.retries == IO_RETRIES
    assert write.retry_delay_seconds == IO_RETRY_DELAYS
    assert write.cache_policy is NO_CACHE
