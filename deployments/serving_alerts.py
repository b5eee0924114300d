"""`python -m deployments.serving_alerts`: notify when a served model drifts or is unhealthy.

    python -m deployments.serving_alerts --model NAME --block BLOCK

Creates (or replaces) two Prefect automations that send a notification through
the notification block BLOCK (Slack, email, a custom webhook: any of Prefect's
notification blocks, saved beforehand):

- `drift-alert-NAME`, on the event `mlops.drift.flagged` for NAME (emitted by
  `python -m flows.watch_requests` when features drift);
- `health-alert-NAME`, on the event `mlops.serving.unhealthy` for NAME (emitted
  by `python -m flows.watch_requests --health-url URL` when the scoring server
  does not answer its health check, or keeps an older version because the
  champion failed to load or its smoke test).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from libs.errors import InputError
from tasks.watch import DRIFT_FLAGGED, SERVING_UNHEALTHY


@dataclass(frozen=True)
class Alert:
    """One automation: the event it waits for, and what the notification says."""

    prefix: str
    event: str
    what: str
    subject: str
    body: str

    def name(self, model: str) -> str:
        return f"{self.prefix}-{model}"


DRIFT = Alert(
    prefix="drift-alert",
    event=DRIFT_FLAGGED,
    what="served traffic drifts (flows.watch_requests)",
    subject="Drift on {{ event.payload.model }} v{{ event.payload.version }}",
    body=(
        "Served traffic of {{ event.payload.model }} v{{ event.payload.version }} drifted: "
        "{{ event.payload.flagged | join(', ') }} ({{ event.payload.rows }} requests). "
        "MLflow run: {{ event.payload.run_url }}"
    ),
)
HEALTH = Alert(
    prefix="health-alert",
    event=SERVING_UNHEALTHY,
    what="the scoring server fails its health check (flows.watch_requests --health-url)",
    subject="Scoring server of {{ event.payload.model }} unhealthy",
    body=(
        "Health check of {{ event.payload.url }} (champion {{ event.payload.model }} "
        "v{{ event.payload.version }}): {{ event.payload.problem }}"
    ),
)
ALERTS = (DRIFT, HEALTH)


def create_alert(alert: Alert, model: str, block_document_id: UUID) -> UUID:
    """The automation's id; an existing one of the same name is replaced, not duplicated."""
    from prefect.client.orchestration import get_client
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    automation = AutomationCore(
        name=alert.name(model),
        description=f"Notify for {model} when {alert.what}",
        trigger=EventTrigger(
            expect={alert.event},
            match={"prefect.resource.id": f"mlflow.registered-model.{model}"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[
            SendNotification(
                block_document_id=block_document_id, subject=alert.subject, body=alert.body
            )
        ],
    )
    with get_client(sync_client=True) as client:
        for old in client.read_automations_by_name(alert.name(model)):
            client.delete_automation(old.id)
        return client.create_automation(automation)


def create_drift_alert(model: str, block_document_id: UUID) -> UUID:
    return create_alert(DRIFT, model, block_document_id)


def create_health_alert(model: str, block_document_id: UUID) -> UUID:
    return create_alert(HEALTH, model, block_document_id)


def block_id(name: str) -> UUID:
    """The id of the saved notification block `name` (`type/name` or a unique `name`)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for document in client.read_block_documents():
            full = f"{document.block_type.slug}/{document.name}" if document.block_type else ""
            if name in (document.name, full):
                return document.id
    raise InputError(f"--block: no saved block named '{name}' on this Prefect server")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.serving_alerts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", required=True, help="registered model name")
    parser.add_argument("--block", required=True, help="saved notification block name")
    args = parser.parse_args(argv)
    try:
        block = block_id(args.block)
        created = {alert: create_alert(alert, args.model, block) for alert in ALERTS}
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for alert, automation_id in created.items():
        print(
            f"automation {alert.name(args.model)} ({automation_id}): "
            f"{alert.event} for {args.model} -> {args.block}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
