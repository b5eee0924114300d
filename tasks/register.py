"""Register the run's model and move `champion` only through the quality gate."""

from __future__ import annotations

from dataclasses import dataclass

from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from libs.gate import GATE_TAG, GateDecision, GateSpec, decide, gate_line
from libs.lineage import decision_line
from libs.metrics import greater_is_better
from libs.settings import PlatformSettings
from tasks import tracking
from tasks._common import io_task

# The Prefect event the gate emits when `champion` moves; a deployment trigger (or the
# scoring server's POST /reload, called by one) reacts to it.
CHAMPION_MOVED = "mlops.champion.moved"


@dataclass(frozen=True)
class Registration:
    name: str
    version: str
    promoted: bool
    reason: str
    decision: GateDecision | None = None  # None on a retry that found the gate already run


@io_task("register", cache_policy=NO_CACHE)
def register_model(
    run: tracking.RunHandle,
    *,
    name: str,
    model_uri: str,
    gate: GateSpec,
    task_type: str,
    metrics: dict[str, float],
    tags: dict[str, str],
    intervals: dict[str, tuple[float, float]] | None = None,
    settings: PlatformSettings | None = None,
) -> Registration:
    """Register a version (once per run), apply the gate, tag the outcome on the version.

    All of it under the registry lock: the version is looked up by the run's key
    before it is created, the champion is read (a failing read fails the task,
    never "no champion"), the decision is tagged, and only then does the alias
    move and get read back. `gate.state` turns `done` last, so a retry of an
    attempt cut short anywhere picks up where it stopped. The version carries the
    decision as one readable tag (`gate`) and as its description, and a few lineage
    tags (`tracking.VERSION_TAGS`); the decision's fields and the rest of its
    lineage (`tracking.lineage_tags`, `tags`) go to the run's `gate.json`.
    """
    metric = gate.metric_for(task_type)
    kept, lineage = tracking.split_version_tags({**tracking.lineage_tags(run, model_uri), **tags})
    with tracking.registry_lock(settings or PlatformSettings(), name):
        version = tracking.register_version(run, name, model_uri, kept)
        recorded = tracking.version_tags(run, name, version)
        decided = tracking.recorded_decision(recorded)
        if decided and recorded.get("gate.state") != tracking.GATE_PENDING:
            # a retry after the gate already ran to the end
            return Registration(name, version, *decided)
        current = tracking.champion(run, name, metric)
        if current is not None and current.version == version and decided:
            # the alias moved in an attempt that stopped before it could say so
            tracking.finish_gate(run, name, version)
            return Registration(name, version, *decided)
        decision: GateDecision = decide(
            gate,
            metric=metric,
            greater_is_better=greater_is_better(metric),
            candidate=metrics[metric],
            champion=current.value if current and current.version != version else None,
            champion_version=current.version if current and current.version != version else None,
            candidate_interval=(intervals or {}).get(metric),
        )
        tracking.record_gate(run, name, version, decision.as_record(), lineage)
        tracking.tag_version(
            run,
            name,
            version,
            {GATE_TAG: gate_line(decision.promote, decision.reason, metric, decision.candidate)},
        )
        tracking.describe_version(
            run, name, version, decision_line(decision.promote, decision.reason)
        )
        if decision.promote:
            tracking.set_champion(run, name, version)
            announce_champion(name, version, current.version if current else None)
        tracking.finish_gate(run, name, version)
    return Registration(name, version, decision.promote, decision.reason, decision)


def announce_champion(name: str, version: str, previous: str | None) -> None:
    """Emit `mlops.champion.moved` for `name`; an event that cannot be sent never fails the
    registration (servers that poll the alias follow anyway)."""
    try:
        emit_event(
            event=CHAMPION_MOVED,
            resource={
                "prefect.resource.id": f"mlflow.registered-model.{name}",
                "mlflow.model": name,
            },
            payload={"model": name, "version": version, "previous": previous or ""},
        )
    except Exception as exc:  # no events client, a closed socket: the alias has moved
        import logging

        logging.getLogger(__name__).warning(
            "champion event for %s v%s not sent: %s", name, version, exc
        )


__all__ = ["CHAMPION_MOVED", "Registration", "announce_champion", "register_model"]
