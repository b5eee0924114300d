"""Register the run's model and move `champion` only through the quality gate."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.gate import GateDecision, GateSpec, decide
from libs.metrics import greater_is_better
from libs.settings import PlatformSettings
from tasks import tracking
from tasks._common import IO_RETRIES, IO_RETRY_DELAYS, retry_unless_input_error


@dataclass(frozen=True)
class Registration:
    name: str
    version: str
    promoted: bool
    reason: str


@task(
    name="register",
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_unless_input_error,
    cache_policy=NO_CACHE,
)
def register_model(
    run: tracking.RunHandle,
    *,
    name: str,
    model_uri: str,
    gate: GateSpec,
    task_type: str,
    metrics: dict[str, float],
    tags: dict[str, str],
) -> Registration:
    """Register a version (once per run), apply the gate, tag the outcome on the version."""
    version = tracking.register_version(run, name, model_uri, tags)
    recorded = tracking.version_tags(run, name, version)
    if "gate.promote" in recorded:  # a retry after the gate already ran
        return Registration(
            name, version, recorded["gate.promote"] == "True", recorded.get("gate.reason", "")
        )
    metric = gate.metric_for(task_type)
    with tracking.registry_lock(PlatformSettings(), name):
        current = tracking.champion(run, name, metric)
        decision: GateDecision = decide(
            gate,
            metric=metric,
            greater_is_better=greater_is_better(metric),
            candidate=metrics[metric],
            champion=current.value if current and current.version != version else None,
            champion_version=current.version if current else None,
        )
        if decision.promote:
            tracking.set_champion(run, name, version)
        tracking.tag_version(run, name, version, decision.as_tags())
    return Registration(name, version, decision.promote, decision.reason)


__all__ = ["Registration", "register_model"]
