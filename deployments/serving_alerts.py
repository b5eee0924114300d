"""`python -m deployments.serving_alerts`: notify when a served model's traffic drifts.

    python -m deployments.serving_alerts --model NAME --block BLOCK

Creates (or replaces) one Prefect automation, `drift-alert-NAME`: on the event
`mlops.drift.flagged` for NAME (emitted by `python -m flows.watch_requests`),
it sends a notification through the notification block BLOCK (Slack, email,
a custom webhook: any of Prefect's notification blocks, saved beforehand).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from uuid import UUID

from libs.errors import InputError
from tasks.watch import DRIFT_FLAGGED

SUBJECT = "Drift on {{ event.payload.model }} v{{ event.payload.version }}"
BODY = (
    "Served traffic of {{ event.payload.model }} v{{ event.payload.version }} drifted: "
    "{{ event.payload.flagged | join(', ') }} ({{ event.payload.rows }} requests). "
    "MLflow run: {{ event.payload.run_url }}"
)


def automation_name(model: str) -> str:
    return f"drift-alert-{model}"


def create_drift_alert(model: str, block_document_id: UUID) -> UUID:
    """The automation's id; an existing one of the same name is replaced, not duplicated."""
    from prefect.client.orchestration import get_client
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    automation = AutomationCore(
        name=automation_name(model),
        description=f"Notify when served traffic of {model} drifts (flows.watch_requests)",
        trigger=EventTrigger(
            expect={DRIFT_FLAGGED},
            match={"prefect.resource.id": f"mlflow.registered-model.{model}"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[SendNotification(block_document_id=block_document_id, subject=SUBJECT, body=BODY)],
    )
    with get_client(sync_client=True) as client:
        for old in client.read_automations_by_name(automation_name(model)):
            client.delete_automation(old.id)
        return client.create_automation(automation)


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
        created = create_drift_alert(args.model, block_id(args.block))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"automation {automation_name(args.model)} ({created}): "
        f"drift on {args.model} -> {args.block}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
