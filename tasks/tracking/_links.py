"""The one builder of the tags that link a run to its flow run, code and process."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
from pathlib import Path

_REPO_DIR = Path(__file__).resolve().parents[2]


def git_commit(cwd: Path | None = None) -> str | None:
    """The checkout's commit, or None outside a git work tree."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or _REPO_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def git_dirty(cwd: Path | None = None) -> bool | None:
    """Whether the checkout has uncommitted changes to tracked files; None outside git."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd or _REPO_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip()) if out.returncode == 0 else None


def source_tags() -> dict[str, str]:
    """MLflow's own "Source" and "User" columns (the entry point, who ran it), and
    whether the checkout had uncommitted changes (`git.dirty`, inside a checkout only).

    The entry point is the command (`flows.train`) when one runs, else the script.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":
        name = spec.name.removesuffix(".__main__")
    else:
        name = os.path.basename(getattr(main, "__file__", "") or sys.argv[0] or "python")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    tags = {"mlflow.source.name": name, "mlflow.source.type": "JOB", "mlflow.user": user}
    dirty = git_dirty()
    if dirty is not None:
        tags["git.dirty"] = str(dirty).lower()
    return tags


def link_tags(
    flow_run_id: str | None,
    *,
    flow_run_name: str | None = None,
    flow_run_url: str | None = None,
) -> dict[str, str]:
    """Tags naming the Prefect flow run (id, name, UI link) and the git commit behind a run.

    Each part only when known: no flow run outside Prefect, no commit outside a checkout.
    """
    tags: dict[str, str] = {}
    if flow_run_id:
        tags["prefect.flow_run_id"] = flow_run_id
        if flow_run_name is not None:
            tags["prefect.flow_run_name"] = flow_run_name
        if flow_run_url:
            tags["prefect.flow_run_url"] = flow_run_url
    commit = git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags


# Set by a sweep for its worker processes: the pid of the process that owns their runs.
OWNER_PID_ENV = "MLOPS_RUN_OWNER_PID"


def process_tags() -> dict[str, str]:
    """Which host and process drive a run: the clean-up of a killed one looks for them."""
    # A sweep's worker process names the sweep's process, which owns the points it
    # trains: the sweep dying (and its workers with it) is what leaves them unfinished.
    owner = os.environ.get(OWNER_PID_ENV, "")
    pid = owner if owner.isdigit() else str(os.getpid())
    tags = {"host": socket.gethostname(), "process.pid": pid}
    if owner.isdigit():  # and which worker process of it trained this one
        tags["process.worker_pid"] = str(os.getpid())
    if os.environ.get("MLOPS_WORKER_NAME"):
        tags["worker"] = os.environ["MLOPS_WORKER_NAME"]
    return tags


__all__ = ["OWNER_PID_ENV", "git_commit", "git_dirty", "link_tags", "process_tags", "source_tags"]
