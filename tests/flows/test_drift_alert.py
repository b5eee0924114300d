"""Flagged drift reaches a person: the automation of `deployments.serving_alerts` sends a
notification through a webhook notification block to a receiver on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.events import emit_event
from prefect_support import webhook_receiver

from deployments.serving_alerts import create_drift_alert
from tasks.watch import DRIFT_FLAGGED

pytestmark = pytest.mark.slow
# The send-notification action reads the block through Prefect's in-process API client,
# whose Host is `prefect-in-memory`: the loopback-only guard lets it through.


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with webhook_receiver() as (url, received):
        yield f"{url}/notify", received


def _seen(api: str) -> list[str]:
    """What the server recorded: our event and the automation's own events, by name."""
    import httpx

    body = {"filter": {"event": {"prefix": ["mlops.", "prefect.automation"]}}, "limit": 50}
    events = httpx.post(f"{api}/events/filter", json=body, timeout=10).json()["events"]
    return [f"{e['event']} {e.get('payload', {})}"[:300] for e in events]


def test_flagged_drift_sends_a_notification(
    receiver: tuple[str, list[dict[str, Any]]], model_name: str, local_prefect_api: str
) -> None:
    # given: a webhook notification block and the drift alert for this model
    url, received = receiver
    block = CustomWebhookNotificationBlock(
        name="drift-receiver",
        url=url,
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
        allow_private_urls=True,
    )
    block_id = block.save(f"drift-{model_name}"[:60], overwrite=True)
    assert isinstance(block_id, UUID)
    create_drift_alert(model_name, block_id)
    time.sleep(2)  # the triggers service loads new automations every few seconds
    # when: the watch flags drift (the event it emits)
    emit_event(
        event=DRIFT_FLAGGED,
        resource={
            "prefect.resource.id": f"mlflow.registered-model.{model_name}",
            "mlflow.model": model_name,
        },
        payload={
            "model": model_name,
            "version": "3",
            "flagged": ["mean_radius"],
            "rows": 300,
            "run_url": "http://mlflow/run",
        },
    )
    # then: the receiver gets one notification naming the model and the feature
    deadline = time.monotonic() + 45
    while not received:
        assert time.monotonic() < deadline, f"no notification arrived; {_seen(local_prefect_api)}"
        time.sleep(1)
    assert model_name in received[0]["subject"]
    assert "mean_radius" in received[0]["text"] and "300 requests" in received[0]["text"]
