"""What a registered version says about itself: a few readable tags, the rest in `gate.json`.

The MLflow registry page shows every version tag, so a version keeps only the
ones people read or filter by: the gate's decision as one sentence (`gate`),
`gate.state` (the registration's own progress), and the few keys of
`VERSION_TAGS`. The decision's fields and the rest of the version's lineage go
to the JSON artifact `gate.json` on the version's run. Versions registered
before this kept them all as `gate.*` and lineage tags; every reader here falls
back to those.
"""

from __future__ import annotations

import json
from typing import Any

from libs.gate import GATE_TAG, gate_line, read_gate_line
from tasks.tracking._client import MlflowClient, MlflowException, RunHandle, client_of, not_found
from tasks.tracking._registry import CHAMPION, GATE_ABANDONED, GATE_DONE, GATE_PENDING

GATE_RECORD = "gate.json"
# Who registers a version, while its gate is pending (`settle_abandoned_versions` reads them).
PROCESS_TAGS = ("registered_by.host", "registered_by.pid")
# The lineage keys a version keeps as tags (people filter the registry by them).
VERSION_TAGS = ("config_digest", "data.snapshot_sha256", "sweep.id")


def split_version_tags(tags: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(tags the version keeps, the rest for `gate.json`)."""
    kept = {k: v for k, v in tags.items() if k in VERSION_TAGS and v}
    return kept, {k: v for k, v in tags.items() if k not in kept}


def record_gate(
    run: RunHandle, name: str, version: str, decision: dict[str, Any], lineage: dict[str, str]
) -> None:
    """The decision's fields and the version's other lineage, as the run's `gate.json`.

    Written before the `gate` tag, which marks the decision as recorded; a retry
    writes it again (the same values).
    """
    record = {"model": name, "version": str(version), "decision": decision, "lineage": lineage}
    text = json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n"
    client_of(run).log_text(run.run_id, text, GATE_RECORD)


def finish_gate(run: RunHandle, name: str, version: str) -> None:
    """`gate.state` done, and the registering process's tags gone (needed only while pending)."""
    client = client_of(run)
    client.set_model_version_tag(name, version, "gate.state", GATE_DONE)
    drop_process_tags(client, name, version)


def recorded_decision(tags: dict[str, str]) -> tuple[bool, str] | None:
    """(promoted, reason) from a version's tags: the `gate` line, or the old `gate.*` tags;
    None when the gate has not decided yet."""
    if GATE_TAG in tags:
        return read_gate_line(tags[GATE_TAG])
    if "gate.promote" in tags:
        return tags["gate.promote"] == "True", tags.get("gate.reason", "")
    return None


def parse_gate_record(text: str | None, name: str, version: str) -> dict[str, Any] | None:
    """A run's `gate.json` text, if it is this version's (else None)."""
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if record.get("model") != name or str(record.get("version")) != str(version):
        return None
    return record


def gate_fields(record: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    """The gate's decision for lineage: from `gate.json`, else from the `gate` line or the old
    `gate.*` tags (a registration abandoned after its record was written says so by its line)."""
    decided = recorded_decision(tags)
    if record is not None and tags.get("gate.state") != GATE_ABANDONED:
        d = record.get("decision") or {}
        return {
            "promote": d.get("promote"),
            "reason": d.get("reason"),
            "metric": d.get("metric"),
            "candidate": d.get("candidate"),
            "threshold": d.get("threshold"),
            "champion_version": d.get("champion_version"),
            "state": tags.get("gate.state"),
        }
    return {
        "promote": decided[0] if decided else None,
        "reason": decided[1] if decided else None,
        "metric": tags.get("gate.metric"),
        "candidate": _float(tags.get("gate.candidate")),
        "threshold": _float(tags.get("gate.threshold")),
        "champion_version": tags.get("gate.champion_version") or None,
        "state": tags.get("gate.state"),
    }


def settle(client: MlflowClient, mv: Any, reason: str) -> None:
    """Close the gate of a version whose registration was cut short."""
    try:
        current = client.get_model_version_by_alias(mv.name, CHAMPION)
        is_champion = str(current.version) == str(mv.version)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        is_champion = False
    if is_champion:  # the alias moves only after the decision: it passed
        client.set_model_version_tag(mv.name, str(mv.version), "gate.state", GATE_DONE)
    else:
        line = gate_line(False, f"never passed the gate: {reason}")
        client.set_model_version_tag(mv.name, str(mv.version), GATE_TAG, line)
        client.set_model_version_tag(mv.name, str(mv.version), "gate.state", GATE_ABANDONED)
    drop_process_tags(client, mv.name, str(mv.version))


def drop_process_tags(client: MlflowClient, name: str, version: str) -> None:
    """The registering process's tags, needed only while the gate is pending."""
    for key in PROCESS_TAGS:
        try:
            client.delete_model_version_tag(name, version, key)
        except MlflowException as exc:
            if not not_found(exc):
                raise


def abandon_pending_versions(run: RunHandle, reason: str) -> None:
    """Versions of a failed run that never finished the gate: tagged as not passed."""
    client = client_of(run)
    found = client.search_model_versions(f"run_id = '{run.run_id}'")
    for mv in found:
        if (mv.tags or {}).get("gate.state") == GATE_PENDING:
            settle(client, mv, reason)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


__all__ = [
    "GATE_RECORD",
    "PROCESS_TAGS",
    "VERSION_TAGS",
    "abandon_pending_versions",
    "drop_process_tags",
    "finish_gate",
    "gate_fields",
    "parse_gate_record",
    "record_gate",
    "recorded_decision",
    "settle",
    "split_version_tags",
]
