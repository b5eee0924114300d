"""The one builder of the tags that link a run to its flow run, code and process."""

from __future__ import annotations

import os
import socket
import subprocess
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


def process_tags() -> dict[str, str]:
    """Which host and process drive a run: the clean-up of a killed one looks for them."""
    tags = {"host": socket.gethostname(), "process.pid": str(os.getpid())}
    if os.environ.get("MLOPS_WORKER_NAME"):
        tags["worker"] = os.environ["MLOPS_WORKER_NAME"]
    return tags


__all__ = ["git_commit", "link_tags", "process_tags"]
