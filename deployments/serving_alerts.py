"""`python -m deployments.serving_alerts`: notify when a served model drifts or is unhealthy.

    python -m deployments.serving_alerts --model NAME [--block BLOCK] [--reload-url URL]

With `--block`, creates (or replaces) three Prefect automations that send a
notification through the notification block BLOCK (Slack, email, a custom webhook: any of Prefect's
notification blocks, saved beforehand):

- `drift-alert-NAME`, on the event `mlops.drift.flagged` for NAME (emitted by
  `python -m flows.watch_requests` when features drift);
- `health-alert-NAME`, on the event `mlops.serving.unhealthy` for NAME (emitted
  by `python -m flows.watch_requests --health-url URL` when the scoring server
  does not answer its health check, or keeps an older version because the
  champion failed to load or its smoke test);
- `rejected-alert-NAME`, on the event `mlops.serving.rejected` for NAME (emitted
  by the scoring server, `python -m flows.serve_model`, the moment a new
  champion fails to load or its smoke test; the old version keeps serving).

With `--reload-url` (a scoring server, e.g. http://127.0.0.1:5002), it saves a
webhook block `reload-NAME` that POSTs to URL/reload and creates
`reload-on-champion-NAME`: on the gate's event `mlops.champion.moved` for
NAME, call that webhook, so the server switches at once instead of at its
next poll.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from libs.errors import InputError
from tasks.register import CHAMPION_MOVED
from tasks.watch import DRIFT_FLAGGED, SERVING_REJECTED, SERVING_UNHEALTHY


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
REJECTED = Alert(
    prefix="rejected-alert",
    event=SERVING_REJECTED,
    what="a new champion fails to load or its smoke test (python -m flows.serve_model)",
    subject="{{ event.payload.model }} v{{ event.payload.version }} not served",
    body=(
        "The scoring server of {{ event.payload.model }} refused v{{ event.payload.version }} "
        "and still serves v{{ event.payload.served }}: {{ event.payload.reason }}"
    ),
)
ALERTS = (DRIFT, HEALTH, REJECTED)


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


def reload_names(model: str) -> tuple[str, str]:
    """The webhook block's and the automation's names for `model` (block names allow
    lowercase letters, digits and dashes only)."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") or "model"
    return f"reload-{slug}", f"reload-on-champion-{model}"


def create_reload_trigger(model: str, server_url: str) -> UUID:
    """On `mlops.champion.moved` for `model`, POST to the scoring server's /reload: the
    gate's move reaches the server through a Prefect automation, not only its poll.
    Returns the automation's id; the block and automation of the same names are replaced."""
    from prefect.blocks.webhook import Webhook
    from prefect.client.orchestration import get_client
    from prefect.events.actions import CallWebhook
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    block_name, automation_name = reload_names(model)
    webhook = Webhook(method="POST", url=f"{server_url.rstrip('/')}/reload")
    block_document_id = webhook.save(block_name, overwrite=True)
    automation = AutomationCore(
        name=automation_name,
        description=f"Tell the scoring server of {model} at {server_url} that @champion moved",
        trigger=EventTrigger(
            expect={CHAMPION_MOVED},
            match={"prefect.resource.id": f"mlflow.registered-model.{model}"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[CallWebhook(block_document_id=block_document_id, payload="{}")],
    )
    with get_client(sync_client=True) as client:
        for old in client.read_automations_by_name(automation_name):
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
    parser.add_argument("--block", help="saved notification block name (the three alerts)")
    parser.add_argument("--reload-url", help="scoring server to tell when @champion moves")
    args = parser.parse_args(argv)
    try:
        if not (args.block or args.reload_url):
            raise InputError("--block or --reload-url: give at least one")
        if args.reload_url and not args.reload_url.startswith(("http://", "https://")):
            raise InputError(f"--reload-url: not an http(s) URL: {args.reload_url!r}")
        lines = []
        if args.block:
            block = block_id(args.block)
            for alert in ALERTS:
                created = create_alert(alert, args.model, block)
                lines.append(
                    f"automation {alert.name(args.model)} ({created}): "
                    f"{alert.event} for {args.model} -> {args.block}"
                )
        if args.reload_url:
            created = create_reload_trigger(args.model, args.reload_url)
            lines.append(
                f"automation {reload_names(args.model)[1]} ({created}): {CHAMPION_MOVED} "
                f"for {args.model} -> POST {args.reload_url.rstrip('/')}/reload"
            )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
