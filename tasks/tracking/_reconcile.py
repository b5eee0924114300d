"""Clean-up after processes on this host that died mid-run: runs, versions, temp files.

A process killed mid-run (SIGKILL, power loss) cannot end its MLflow run nor
finish its gate; each run and version records its host and pid, so the next
start on the same host closes what a dead process left.
"""

from __future__ import annotations

import os
import socket

from libs.io.storage import process_alive
from libs.settings import PlatformSettings
from tasks.tracking._client import client_for
from tasks.tracking._gate_record import settle
from tasks.tracking._registry import GATE_PENDING


def reconcile_abandoned_runs(settings: PlatformSettings) -> list[dict[str, str]]:
    """Mark RUNNING runs of processes that died on this host as KILLED, in every experiment.

    Returns their run and flow-run ids and output folders so the caller can mark
    the Prefect side and clear temp files.
    """
    client = client_for(settings)
    experiments = [e.experiment_id for e in client.search_experiments(max_results=1000)]
    if not experiments:
        return []
    host = socket.gethostname()
    closed = []
    runs = client.search_runs(
        experiments,
        filter_string=f"attributes.status = 'RUNNING' and tags.host = '{host}'",
        max_results=1000,
    )
    for run in runs:
        pid = run.data.tags.get("process.pid", "")
        if not pid.isdigit() or process_alive(int(pid)):
            continue
        reason = f"process {pid} on {host} ended without finishing the run"
        client.set_tag(run.info.run_id, "error", reason)
        client.set_terminated(run.info.run_id, status="KILLED")
        closed.append(
            {
                "run_id": run.info.run_id,
                "flow_run_id": run.data.tags.get("prefect.flow_run_id", ""),
                "output": run.data.params.get("output", ""),
            }
        )
    return closed


def settle_abandoned_versions(settings: PlatformSettings) -> list[tuple[str, str]]:
    """Versions whose registering process died before the gate finished: marked not passed.

    A kill between creating a version and tagging its gate result would leave a
    version that looks registered but never went through the gate. Its tags now
    say so (`gate.promote` False); a version the alias already points to passed.
    """
    client = client_for(settings)
    host = socket.gethostname()
    settled = []
    pending = client.search_model_versions(
        f"tags.`gate.state` = '{GATE_PENDING}' and tags.`registered_by.host` = '{host}'"
    )
    for mv in pending:
        pid = (mv.tags or {}).get("registered_by.pid", "")
        if not pid.isdigit() or process_alive(int(pid)):
            continue
        settle(client, mv, f"process {pid} on {host} ended before the gate decided")
        settled.append((mv.name, str(mv.version)))
    return settled


def clean_up_dead_processes(settings: PlatformSettings) -> None:
    """Everything a killed process on this host left: runs, flow runs, versions, temp files."""
    from libs.io.storage import remove_dead_temp_files
    from tasks.reconcile import mark_flow_run_crashed

    closed = reconcile_abandoned_runs(settings)
    for run in closed:
        mark_flow_run_crashed(run["flow_run_id"], run["run_id"])
    settle_abandoned_versions(settings)
    remove_dead_temp_files(settings.storage_root, recursive=True)
    for folder in {os.path.dirname(r["output"]) for r in closed if r["output"]}:
        remove_dead_temp_files(folder or ".")


__all__ = ["clean_up_dead_processes", "reconcile_abandoned_runs", "settle_abandoned_versions"]
