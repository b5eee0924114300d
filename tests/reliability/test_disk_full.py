"""Disk full (issue 36): one line naming the folder and its free space, no flood of log errors.

Before: on a 1 MB home the error blamed "Timed out while attempting to connect to
ephemeral Prefect API server"; a disk that filled up during a run printed about
2,000 lines of `--- Logging error ---` tracebacks with the `error:` line buried.

A real tmpfs of 1 MB (mounted for the test: root only, skipped elsewhere).
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run_cli

from flows.cli_ending import _disk_full_line
from flows.cli_logging import _LazyFileHandler


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs, unmounted after."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> None:
    """Write until the disk refuses."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


@pytest.mark.slow
def test_a_run_on_a_home_with_no_room_is_one_line_before_any_server(tiny_disk: Path) -> None:
    # given: MLOPS_HOME on a 1 MB disk, and the default local Prefect server (auto mode)
    home = tiny_disk / "home"
    started = time.monotonic()
    # when
    result = run_cli(
        home,
        "flows.train",
        *("--set", "data.source=iris"),
        temporary_server=False,
        MLOPS_WARM_WORKER="false",
        timeout=300,
    )
    # then: the folder and its free space named, exit 2, at once; nothing started or written
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-3000:]
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith(
        f"error: MLOPS_HOME: {home} has 1.0 MB free on its disk, a run needs at least 64.0 MB"
    ), lines[0]
    assert "ephemeral Prefect API server" not in result.stderr
    assert time.monotonic() - started < 60
    assert not home.exists()


def test_a_log_file_on_a_full_disk_stops_quietly(
    tiny_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: the command's log file on a disk that then fills up
    handler = _LazyFileHandler(tiny_disk / "logs" / "run.log", encoding="utf-8", delay=True)
    logger = logging.getLogger("test-disk-full")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("first line, written")
        fill(tiny_disk)
        # when: a run goes on logging
        for number in range(2000):
            logger.warning("line %d of a run", number)
    finally:
        logger.removeHandler(handler)
        handler.close()
    # then: no `--- Logging error ---` flood; the file stopped at the first failed write
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    assert handler.unwritable


def test_a_disk_that_filled_during_the_work_is_named_with_its_free_space(
    tiny_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the error a write meets on a full disk (no file name: the home is named),
    # wrapped as libraries wrap it
    monkeypatch.setenv("MLOPS_HOME", str(tiny_disk))
    fill(tiny_disk)
    try:
        (tiny_disk / "model.pkl").write_bytes(b"y" * 65536)
    except OSError as exc:
        try:
            raise RuntimeError("could not log the model") from exc
        except RuntimeError as wrapped:
            error = wrapped
    # when
    line = _disk_full_line(error, "training")
    # then
    assert line is not None
    assert line.startswith(f"error: training failed: the disk is full under {tiny_disk} (0.0 MB")
