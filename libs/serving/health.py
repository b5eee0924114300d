"""Whether a scoring server serves its champion: the judgement of a health check, as a value.

The caller makes the HTTP calls (`GET /health`, then `GET /version`) and hands
their outcome here; this module says, in one line, what is wrong, or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def serving_problem(
    champion: str | None,
    *,
    error: str | None = None,
    status: int | None = None,
    version_body: Mapping[str, Any] | None = None,
) -> str | None:
    """What is wrong with a scoring server, in one line; None when it is healthy.

    Unhealthy: it did not answer (`error`), answered other than 200 (`status`), or
    the champion is among the versions it refused (a failed load or smoke test), so
    it keeps serving an older one. A champion not yet served but not refused is a
    switch in progress (the next poll), not a failure.
    """
    if error is not None:
        return f"the scoring server did not answer: {error}"
    if status is not None and status != 200:
        return f"the scoring server answered {status}"
    body = version_body or {}
    rejected = body.get("rejected") or {}
    if champion is not None and champion in rejected:
        served = body.get("version", "?")
        return (
            f"v{champion} is champion but was refused ({rejected[champion]}); "
            f"v{served} is still served"
        )
    return None


__all__ = ["serving_problem"]
