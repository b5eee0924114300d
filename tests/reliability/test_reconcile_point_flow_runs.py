"""A killed sweep's point flow runs are reconciled with it (issue 36).

Before: the next command marked Crashed only the flow runs it found through a dead
process's RUNNING MLflow run; a point killed before its MLflow run started stayed
Running in Prefect forever (2 of 3 killed sweeps). Now the sweep's flow run takes
its unfinished sub-flow runs with it, except those of a deployment (a worker
elsewhere runs them and ends them itself).

Against the session's real Prefect server: the flow runs a killed sweep leaves
(the sweep Running, one point Running under its `run-point` task run, one point
Pending), one point sent to a deployment, and an unrelated run.
"""

from __future__ import annotations

import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.states import Pending, Running

from tasks.reconcile import mark_flow_run_crashed


@flow(name="killed-sweep")
def sweep_stand_in() -> None:
    """Only its name and id are used: the flow runs are created through the API."""


@flow(name="killed-point")
def point_stand_in() -> None:
    """As above."""


@task(name="run-point")
def run_point_stand_in() -> None:
    """As above."""


@pytest.mark.flow
def test_a_killed_sweeps_unfinished_points_are_crashed_with_it(prefect_server: None) -> None:
    # given: what a sweep killed mid-way leaves in Prefect
    with get_client(sync_client=True) as client:
        sweep = client.create_flow_run(sweep_stand_in, state=Running())
        points = []
        for index, state in enumerate((Running(), Pending())):
            task_run = client.create_task_run(
                run_point_stand_in, sweep.id, dynamic_key=str(index), state=Running()
            )
            points.append(
                client.create_flow_run(
                    point_stand_in, parent_task_run_id=task_run.id, state=state
                ).id
            )
        flow_id = client.create_flow_from_name("killed-point")
        deployment = client.create_deployment(flow_id=flow_id, name="points-elsewhere")
        remote_task = client.create_task_run(
            run_point_stand_in, sweep.id, dynamic_key="remote", state=Running()
        )
        remote = client.create_flow_run_from_deployment(
            deployment, parent_task_run_id=remote_task.id
        )
        client.set_flow_run_state(remote.id, Running(), force=True)
        unrelated = client.create_flow_run(point_stand_in, state=Running())
    # when: the next command reconciles the sweep's dead MLflow run
    reached = mark_flow_run_crashed(str(sweep.id), "0123abcd")
    # then
    assert reached
    with get_client(sync_client=True) as client:

        def state(flow_run_id):  # type: ignore[no-untyped-def]
            return client.read_flow_run(flow_run_id).state

        assert state(sweep.id).type.value == "CRASHED"
        for point in points:
            assert state(point).type.value == "CRASHED", point
            assert "parent's process ended (MLflow run 0123abcd)" in state(point).message
        assert state(remote.id).type.value == "RUNNING"  # its worker ends it
        assert state(unrelated.id).type.value == "RUNNING"
