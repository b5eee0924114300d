"""The Prefect side of cleaning up after a killed process.

`tracking.start_run` finds the MLflow runs of dead processes (every run kind
records its host and pid) and ends them; their Prefect flow runs, left Running
by the same kill, are marked Crashed here. This module imports no MLflow, so
the tracking owner can call it without an import cycle.
"""

from __future__ import annotations

from uuid import UUID


def mark_flow_run_crashed(flow_run_id: str, run_id: str) -> bool:
    """Set a flow run that is not final to Crashed; False when it could not be reached."""
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
    except Exception:  # the flow run may live on a server we cannot reach (a temporary one)
        return False
    return True


__all__ = ["mark_flow_run_crashed"]
