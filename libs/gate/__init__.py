"""The registry's quality gate: pure rules deciding whether `champion` moves.

A candidate is promoted only when its primary metric clears the threshold and
beats the current champion by at least `min_improvement`. Keeping the rule pure
lets it be tested without a registry and applied the same way by every flow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from pydantic import BaseModel, ConfigDict, Field


class GateSpec(BaseModel):
    """When a newly registered version becomes `champion`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str | None = Field(
        None,
        description="Primary metric; default accuracy for classification, r2 for regression.",
    )
    threshold: float | None = Field(
        None,
        description="Minimum (or, for lower-is-better metrics, maximum) value to pass.",
    )
    min_improvement: float = Field(
        0.0, ge=0.0, description="How much the candidate must beat the champion by."
    )
    compare_to_champion: bool = Field(
        True, description="Require beating the current champion, not only the threshold."
    )
    beyond_interval: bool = Field(
        False,
        description=(
            "Also require the candidate's 95% bootstrap interval to clear the champion's "
            "value (its lower bound above it; upper bound below it for lower-is-better "
            "metrics), so that a win within the noise of the test set does not promote."
        ),
    )

    def metric_for(self, task: str) -> str:
        return self.metric or ("accuracy" if task == "classification" else "r2")


# The one readable version tag that carries the decision (the MLflow registry page shows
# it); the decision's fields go to the run's `gate.json` (`GateDecision.as_record`).
GATE_TAG = "gate"
PROMOTED = "promoted"
NOT_PROMOTED = "not promoted"


def gate_line(promote: bool, reason: str, metric: str = "", candidate: float | None = None) -> str:
    """The decision as one tag value: `promoted: r2 0.4700 >= 0.45; beats champion v3 (0.4400)`.

    With `metric` and `candidate`, a reason that does not start with the value (no
    threshold) gets it in front: `promoted: r2 0.4700, no threshold; no champion yet`.
    """
    text = " ".join(reason.split())
    if metric and candidate is not None and not text.startswith(f"{metric} "):
        text = f"{metric} {candidate:.4f}, {text}"
    return f"{PROMOTED if promote else NOT_PROMOTED}: {text}"


def read_gate_line(line: str) -> tuple[bool, str]:
    """`gate_line` read back: whether the version was promoted, and the reason."""
    word, _, reason = line.partition(": ")
    return word == PROMOTED, reason


@dataclass(frozen=True)
class GateDecision:
    """The gate's decision for one candidate, with the rules it applied (the evaluation
    card shows it as a table)."""

    metric: str
    candidate: float
    threshold: float | None
    champion: float | None
    champion_version: str | None
    passed_threshold: bool
    beats_champion: bool
    promote: bool
    reason: str
    min_improvement: float = 0.0
    interval: tuple[float, float] | None = None
    beyond_interval: bool = False

    def as_record(self) -> dict[str, object]:
        """The decision's fields as JSON-ready values (the run's `gate.json`)."""
        values = asdict(self)
        if self.interval is not None:
            values["interval"] = [_finite(v) for v in self.interval]
        return {k: _finite(v) for k, v in values.items()}


def _finite(value: object) -> object:
    """NaN as None: JSON has no NaN."""
    return None if isinstance(value, float) and math.isnan(value) else value


def decide(
    spec: GateSpec,
    *,
    metric: str,
    greater_is_better: bool,
    candidate: float,
    champion: float | None = None,
    champion_version: str | None = None,
    candidate_interval: tuple[float, float] | None = None,
) -> GateDecision:
    """Apply the gate to one candidate value against an optional champion value.

    No `champion_version` means there is no champion; a champion without a
    (finite) value is never beaten, since nothing was compared. With
    `spec.beyond_interval`, beating the champion also needs the candidate's
    interval to lie wholly on the better side of the champion's value (no
    interval: not beaten, since that could not be checked).
    """
    sign = 1.0 if greater_is_better else -1.0
    word = ">=" if greater_is_better else "<="
    if math.isnan(candidate):
        passed, why = False, f"{metric} is NaN"
    elif spec.threshold is None:
        passed, why = True, "no threshold"
    else:
        passed = sign * (candidate - spec.threshold) >= 0
        why = f"{metric} {candidate:.4f} {word if passed else 'fails ' + word} {spec.threshold}"

    if not spec.compare_to_champion:
        beats, vs = True, "champion comparison off"
    elif champion_version is None:
        beats, vs = True, "no champion yet"
    elif champion is None or math.isnan(champion):
        # A champion whose value cannot be read is not beaten by default: only a
        # positive comparison moves the alias.
        beats, vs = False, f"champion v{champion_version} has no {metric} to compare with"
    else:
        improvement = sign * (candidate - champion)
        beats = improvement > 0 and improvement >= spec.min_improvement
        margin = f", by at least {spec.min_improvement}" if spec.min_improvement else ""
        if beats and spec.beyond_interval:
            bound = None
            if candidate_interval is not None:
                bound = candidate_interval[0] if greater_is_better else candidate_interval[1]
            if bound is None or math.isnan(bound) or sign * (bound - champion) <= 0:
                beats = False
                shown = "no interval" if bound is None else f"interval bound {bound:.4f}"
                margin += f", beyond the 95% interval ({shown})"
            else:
                margin += f", beyond the 95% interval (bound {bound:.4f})"
        verb = "beats" if beats else "does not beat"
        vs = f"{verb} champion v{champion_version} ({champion:.4f}{margin})"
    return GateDecision(
        metric=metric,
        candidate=candidate,
        threshold=spec.threshold,
        champion=champion,
        champion_version=champion_version,
        passed_threshold=passed,
        beats_champion=beats,
        promote=passed and beats,
        reason=f"{why}; {vs}",
        min_improvement=spec.min_improvement,
        interval=candidate_interval,
        beyond_interval=spec.beyond_interval,
    )


def check_gate_metric(gate: GateSpec, task_type: str) -> str:
    """The gate's metric, which must be one this task computes; checked before any run exists."""
    from libs.errors import InputError
    from libs.metrics import METRIC_NAMES

    metric = gate.metric_for(task_type)
    known = METRIC_NAMES[task_type]  # type: ignore[index]
    if metric not in known:
        raise InputError(
            f"gate.metric: '{metric}' is not computed for {task_type} "
            f"(choose from {', '.join(known)})"
        )
    return metric


__all__ = [
    "GATE_TAG",
    "NOT_PROMOTED",
    "PROMOTED",
    "GateDecision",
    "GateSpec",
    "check_gate_metric",
    "decide",
    "gate_line",
    "read_gate_line",
]
