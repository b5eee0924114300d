"""Temp files of atomic writes name their writer; those of dead writers are removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from libs.io import ChunkWriter, write_bytes
from libs.io.storage import _host_label, remove_dead_temp_files, temp_name


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temp_name_carries_pid_and_host() -> None:
    name = temp_name("scored.parquet")
    assert name.startswith(f".scored.parquet.{os.getpid()}@{_host_label()}.")
    assert name.endswith(".tmp") and name != temp_name("scored.parquet")


def test_only_temp_files_of_dead_writers_on_this_host_are_removed(tmp_path: Path) -> None:
    # given: leftovers of a dead writer (nested too), a live writer's, another host's
    host = _host_label()
    dead = tmp_path / f".a.csv.{dead_pid()}@{host}.0123456789abcdef.tmp"
    nested = tmp_path / "x" / f".b.csv.{dead_pid()}@{host}.0123456789abcdef.tmp"
    live = tmp_path / f".c.csv.{os.getpid()}@{host}.0123456789abcdef.tmp"
    other = tmp_path / f".d.csv.{dead_pid()}@elsewhere-{host}.0123456789abcdef.tmp"
    plain = tmp_path / "e.tmp"
    nested.parent.mkdir()
    for path in (dead, nested, live, other, plain):
        path.write_bytes(b"half")
    # when: a flat clean-up, then a recursive one
    flat = remove_dead_temp_files(str(tmp_path))
    deep = remove_dead_temp_files(str(tmp_path), recursive=True)
    # then
    assert flat == [str(dead)] and deep == [str(nested)]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.name for p in (live, other, plain)
    )


def test_missing_or_remote_folders_have_nothing_to_remove(tmp_path: Path) -> None:
    assert remove_dead_temp_files(str(tmp_path / "nope")) == []
    assert remove_dead_temp_files("s3://bucket/folder") == []


def test_writers_use_the_named_temp_files(tmp_path: Path) -> None:
    # given: a chunked write in progress
    target = tmp_path / "t.parquet"
    with ChunkWriter(str(target)) as writer:
        writer.write(pd.DataFrame({"v": [1, 2]}))
        temps = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        # then: its temp file names this process, so a clean-up leaves it alone
        assert len(temps) == 1 and f".{os.getpid()}@" in temps[0]
        assert remove_dead_temp_files(str(tmp_path)) == []
    write_bytes(b"x", str(tmp_path / "b.bin"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "t.parquet"]
