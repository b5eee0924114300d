"""The Prefect side of cleaning up after a killed process.

`tracking.start_run` finds the MLflow runs of dead processes (every run kind
records its host and pid) and ends them; their Prefect flow runs, left Running
by the same kill, are marked Crashed here. This module imports no MLflow, so
the tracking owner can call it without an import cycle.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


def mark_flow_run_crashed(flow_run_id: str, run_id: str) -> bool:
    """Set a flow run that is not final to Crashed, and its sub-flow runs that ran in its
    process; False when it could not be reached.

    A sweep killed before a point's MLflow run started leaves that point's flow run
    Running with no MLflow run to find it by: it is found as a child of the sweep's.
    Children of a deployment (`run_deployment`, run by a worker elsewhere) are left
    to their worker.
    """
    if not flow_run_id:
        return False
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    try:
        with get_client(sync_client=True) as client:
            current = client.read_flow_run(UUID(flow_run_id))
            if current.state is not None and not current.state.is_final():
                client.set_flow_run_state(
                    UUID(flow_run_id),
                    Crashed(message=f"process ended without finishing MLflow run {run_id}"),
                    force=True,
                )
            for child in _unfinished_children(client, UUID(flow_run_id)):
                client.set_flow_run_state(
                    child,
                    Crashed(message=f"its parent's process ended (MLflow run {run_id})"),
                    force=True,
                )
    except Exception:  # the flow run may live on a server we cannot reach (a temporary one)
        return False
    return True


def _unfinished_children(client: Any, parent: UUID, depth: int = 3) -> list[UUID]:
    """Sub-flow runs (and theirs) of `parent` that are not final and belong to no deployment."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterParentFlowRunId,
    )

    wanted = FlowRunFilter(
        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent]),
        deployment_id=FlowRunFilterDeploymentId(is_null_=True),
    )
    children: list[Any] = []
    while True:  # the server answers at most 200 a page; a sweep may have more points
        page = client.read_flow_runs(flow_run_filter=wanted, limit=200, offset=len(children))
        children += page
        if len(page) < 200:
            break
    found = [c.id for c in children if c.state is None or not c.state.is_final()]
    if depth > 1:
        for child in children:
            found += _unfinished_children(client, child.id, depth - 1)
    return found


__all__ = ["mark_flow_run_crashed"]
