"""MLflow registry webhooks, verified: is this delivery from our MLflow, and does it move
the alias we serve?

MLflow signs `<delivery id>.<timestamp>.<body>` with HMAC-SHA256 and the
webhook's secret, sends it as `X-MLflow-Signature: v1,<base64>` beside
`X-MLflow-Delivery-Id` and `X-MLflow-Timestamp`. A delivery without a valid
signature, or older than the tolerance (a replay), is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from libs.errors import InputError

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
TOLERANCE_SECONDS = 300


class WebhookError(InputError):
    """A delivery that is not verifiably from the registry (a 401)."""


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The `v1,<base64>` signature MLflow sends for this delivery."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_delivery(
    secret: str, headers: dict[str, str], body: bytes, now: float | None = None
) -> dict[str, Any]:
    """The delivery's JSON when its signature and timestamp hold; `WebhookError` otherwise."""
    wanted = {k.lower(): v for k, v in headers.items()}
    delivery = wanted.get(DELIVERY_HEADER.lower(), "")
    stamp = wanted.get(TIMESTAMP_HEADER.lower(), "")
    signature = wanted.get(SIGNATURE_HEADER.lower(), "")
    if not (delivery and stamp and signature):
        raise WebhookError(f"webhook: missing {SIGNATURE_HEADER}, timestamp or delivery id")
    if not stamp.isdigit() or abs((now or time.time()) - int(stamp)) > TOLERANCE_SECONDS:
        raise WebhookError(f"webhook: {TIMESTAMP_HEADER} is not within {TOLERANCE_SECONDS} s")
    if not hmac.compare_digest(sign(secret, delivery, stamp, body), signature):
        raise WebhookError(f"webhook: {SIGNATURE_HEADER} does not match")
    try:
        payload: dict[str, Any] = json.loads(body)
    except ValueError:
        raise WebhookError("webhook: body is not JSON") from None
    return payload


def moves_alias(payload: dict[str, Any], model: str, alias: str) -> bool:
    """Whether the delivery says `alias` of `model` was set, moved or deleted."""
    data = payload.get("data") or {}
    return (
        payload.get("entity") == "model_version_alias"
        and data.get("name") == model
        and data.get("alias") == alias
    )


__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookError",
    "moves_alias",
    "sign",
    "verify_delivery",
]
