"""PostgreSQL for the team-mode tests: a skip with the reason when it cannot run, a home for it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deployments.runtime import postgres


def require_postgres() -> None:
    """Skip, saying why, where team mode cannot run (no binaries, no psycopg2)."""
    reason = postgres.missing_reason()
    if reason:
        pytest.skip(f"team mode on PostgreSQL cannot run here: {reason}")


@contextmanager
def team_home(prefix: str) -> Iterator[Path]:
    """A state folder the cluster's user can reach; its servers and cluster stopped after.

    As root the cluster runs as `postgres`, which cannot enter pytest's private
    temporary folder: the home is made in the system's temporary folder instead.
    """
    from deployments.runtime.servers import stop

    base = Path(tempfile.mkdtemp(prefix=f"mlops-{prefix}-"))
    os.chmod(base, 0o755)
    home = base / "home"
    try:
        yield home
    finally:
        stop(home)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def restoring_logins() -> Iterator[None]:
    """Leave this test process's team logins as they were (a team start logs it in)."""
    from deployments.runtime import team_auth

    saved = {k: os.environ.get(k) for k in team_auth.CLIENT_VARIABLES}
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def cluster_group(home: Path) -> int:
    """The local cluster's process group (its postmaster's pid)."""
    from deployments.runtime.procs import recorded_pid

    pid = recorded_pid(postgres.folder_of(home), "postgres")
    assert pid is not None, "no local cluster recorded"
    return pid


def group_members(pgid: int) -> list[int]:
    """Running (not zombie) processes of process group `pgid`: the postmaster and its children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            found.append(int(entry.name))
    return found
