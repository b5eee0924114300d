"""The training report's evaluation card: what a reader asks before any figure.

Which model and version, is it the champion and why (the gate's comparison
against the current champion), how long it took, from which commit and data,
with which config, on what data (rows, columns, class balance, split sizes).
Plain values in, report blocks out: the task wiring gathers the values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from libs.gate import GateDecision
from libs.plots.report import KeyValues, ReportHeader, Table, format_number


@dataclass(frozen=True)
class CardFacts:
    """Everything the card shows; unknown parts stay empty and are left out."""

    model_name: str
    version: str | None = None
    promoted: bool = False
    gate_reason: str = ""
    gate: GateDecision | None = None
    config: Mapping[str, str] = field(default_factory=dict)


def _number(value: float | None) -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (format_number(float(value)))
    )


def gate_table(gate: GateDecision) -> Table:
    """One row per gate rule: what was required, what the candidate had, passed or not."""
    candidate = _number(gate.candidate)
    if gate.interval is not None:
        candidate += f" (95% interval {_number(gate.interval[0])} to {_number(gate.interval[1])})"
    rows: list[dict[str, str]] = [
        {
            "rule": "threshold",
            "required": "none" if gate.threshold is None else f"{gate.metric} vs {gate.threshold}",
            "candidate": candidate,
            "champion": "",
            "result": "pass" if gate.passed_threshold else "fail",
        }
    ]
    if gate.champion_version is None:
        versus = "no champion yet"
    else:
        versus = f"v{gate.champion_version}: {_number(gate.champion) or 'no value'}"
    need = "beat the champion"
    if gate.min_improvement:
        need += f" by at least {gate.min_improvement}"
    if gate.beyond_interval:
        need += ", beyond the candidate's 95% interval"
    rows.append(
        {
            "rule": "champion",
            "required": need,
            "candidate": candidate,
            "champion": versus,
            "result": "pass" if gate.beats_champion else "fail",
        }
    )
    return Table(pd.DataFrame(rows), caption=gate.reason)


def data_profile(
    x_train: pd.DataFrame,
    x_test: pd.DataFrame,
    y_train: pd.Series,
    y_test: pd.Series,
    task: str,
    class_names: Mapping[Any, str] | None = None,
) -> list[tuple[str, KeyValues | Table]]:
    """Rows, columns by type, split sizes and (classification) the class balance per split."""
    rows = len(x_train) + len(x_test)
    numeric = x_train.select_dtypes("number").shape[1]
    other = x_train.shape[1] - numeric
    missing = int(x_train.isna().sum().sum() + x_test.isna().sum().sum())
    facts = KeyValues(
        [
            ("rows", str(rows)),
            ("columns", f"{x_train.shape[1]} features ({numeric} numeric, {other} other) + target"),
            ("split", f"train {len(x_train)}, test {len(x_test)}"),
            ("missing values", str(missing)),
            ("task", task),
        ]
    )
    blocks: list[tuple[str, KeyValues | Table]] = [("Data", facts)]
    if task == "classification":
        names = class_names or {}
        train = y_train.value_counts()
        test = y_test.value_counts()
        labels = sorted(set(train.index) | set(test.index), key=lambda v: (str(type(v)), v))
        balance = pd.DataFrame(
            {
                "class": [names.get(label, str(label)) for label in labels],
                "label": [str(label) for label in labels],
                "train": [int(train.get(label, 0)) for label in labels],
                "test": [int(test.get(label, 0)) for label in labels],
                "share": [
                    round(float(train.get(label, 0) + test.get(label, 0)) / rows, 4)
                    for label in labels
                ],
            }
        )
        blocks.append(("Class balance", Table(balance)))
    return blocks


def evaluation_header(
    facts: CardFacts, data: Sequence[tuple[str, KeyValues | Table]] = ()
) -> ReportHeader:
    """The card: badge and verdict, the gate's comparison; data profile and config after
    the metrics (the run's details are the report's own `meta`)."""
    if facts.version:
        badge = "champion" if facts.promoted else "not champion"
        verdict = f"{facts.model_name} version {facts.version}: " + (
            "now the champion" if facts.promoted else "kept, not the champion"
        )
    else:
        badge, verdict = "not registered", f"{facts.model_name}: not registered"
    if facts.gate_reason:
        verdict += f" ({facts.gate_reason})"
    sections: list[tuple[str, KeyValues | Table]] = []
    if facts.gate is not None:
        sections.append(("Gate: candidate against the champion", gate_table(facts.gate)))
    trailing = list(data)
    if facts.config:
        trailing.append(("Config", KeyValues(sorted(facts.config.items()))))
    return ReportHeader(
        subtitle=verdict,
        badge=badge,
        promoted=facts.promoted,
        sections=tuple(sections),
        trailing=tuple(trailing),
    )


__all__ = ["CardFacts", "data_profile", "evaluation_header", "gate_table"]
