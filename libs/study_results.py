"""What a study stage and a confirmation return: `StageSummary`, `ConfirmationResult`.

Pure records (no tracking): the command line prints `stage_lines` and
`confirmation_lines`, and `flows.api` returns these types so a notebook never
parses printed text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from libs.doe.names import Namer
from libs.doe.summary import SweepSummary, namer, summary_lines
from libs.studies import fmt_value
from libs.study_recommendation import recommendation_lines


def confirm_command(sweep_id: str, runs: int = 3) -> str:
    return f"python -m flows.sweep --confirm {sweep_id[:12]} --runs {runs}"


@dataclass(frozen=True)
class StageSummary(SweepSummary):
    """A sweep's summary with what a study stage adds: the response it ranked on, the
    recommendation with its prediction interval, the effects table and the commands that
    confirm it or go on."""

    response: str = ""  # "r2, mean of 5-fold cross-validation on the training split"
    recommendation: Any = None  # libs.doe Recommendation
    effects: pd.DataFrame | None = None
    confirm: str = ""  # the exact --confirm command
    best_runs: int = 1  # runs behind the best setting's mean
    step: str = "screen"

    @property
    def best_params(self) -> dict[str, Any]:
        """The best setting by its mean response, every factor by name (as Optuna's
        `study.best_params`)."""
        return dict(self.best_point or {})

    @property
    def next_command(self) -> str:
        """The next stage's command alone (without the words in brackets after it)."""
        return self.next_step.split(" (", 1)[0]

    def __str__(self) -> str:
        """The summary as the terminal prints it: short names, values rounded by range."""
        said = namer(self)
        return "\n".join(said.text(line) for line in stage_lines(self))

    def _repr_markdown_(self) -> str:  # a notebook shows it as the Prefect UI does
        return stage_markdown(self)


def stage_lines(s: SweepSummary) -> list[str]:
    """The sweep's summary lines, then (a study stage) its recommendation and the exact
    command that confirms it, last, so the terminal ends with the next thing to run."""
    lines = summary_lines(s)
    if not isinstance(s, StageSummary):
        return lines
    extra: list[tuple[str, str]] = []
    if s.response:
        extra.append(("Response", s.response))
    extra += recommendation_lines(s.recommendation, s.metric)
    if s.confirm:
        extra.append(("Confirm", s.confirm))
    if not extra:
        return lines
    width = max(len(k) for k, _ in extra) + 2
    width = max(width, len(lines[0].split(":", 1)[0]) + 2 if lines else 0)
    return lines + [f"{k + ':':<{width}}{v}" for k, v in extra]


def stage_markdown(s: SweepSummary) -> str:
    """The summary as the Prefect UI shows it: in short factor names, as the terminal does."""
    said = namer(s)
    lines = [said.text(line) for line in stage_lines(s)]
    rows = "\n".join(
        f"| {line.split(':', 1)[0]} | {line.split(':', 1)[1].strip()} |" for line in lines
    )
    return f"# DOE sweep {s.sweep_id[:12]}\n\n| | |\n|---|---|\n{rows}\n"


@dataclass(frozen=True)
class ConfirmationRun:
    """One confirmation training: its training seed, test score and whether it is inside."""

    train_seed: int
    value: float | None
    inside: bool | None
    run_id: str
    error: str = ""


@dataclass(frozen=True)
class ConfirmationResult:
    """`--confirm`: the recommendation trained N times, each scored on the test split."""

    sweep_id: str
    metric: str
    settings: dict[str, Any]
    predicted: float | None
    interval: tuple[float, float] | None
    runs: list[ConfirmationRun]
    inside: int
    verdict: str
    model_name: str | None = None
    version: str | None = None
    champion: bool = False
    gate_reason: str = ""
    run_id: str | None = None  # the run whose model went through the gate
    notes: list[str] = field(default_factory=list)
    # `interval` is for ONE run's test-split score (what the runs are checked against) when
    # `interval_reason` says how it was built; `cv_interval` is the recommendation's own, for
    # the cross-validated response the study ranked on
    cv_interval: tuple[float, float] | None = None
    interval_reason: str = ""
    # the study's FactorSpace: settings are shown with the digits each range warrants
    space: Any = field(default=None, repr=False, compare=False)

    @property
    def mean(self) -> float | None:
        values = [r.value for r in self.runs if r.value is not None]
        return sum(values) / len(values) if values else None

    def __str__(self) -> str:
        """The confirmation as the terminal prints it: short names, values rounded by range."""
        said = Namer.of(list(self.settings), self.space)
        return "\n".join(said.text(line) for line in confirmation_lines(self))


def confirmation_lines(c: ConfirmationResult) -> list[str]:
    """The confirmation as aligned `label: value` lines."""
    at = ", ".join(f"{k}={fmt_value(v)}" for k, v in c.settings.items())
    lines: list[tuple[str, str]] = [("Sweep", c.sweep_id[:12]), ("Setting", at)]
    if c.predicted is not None and c.interval is not None and all(map(math.isfinite, c.interval)):
        of = " for a test-split score" if c.interval_reason else ""
        lines.append(
            (
                "Predicted",
                f"{c.metric}={c.predicted:.4g}, 95% prediction interval{of} "
                f"[{c.interval[0]:.4g}, {c.interval[1]:.4g}]",
            )
        )
    if c.cv_interval is not None and all(map(math.isfinite, c.cv_interval)) and c.interval_reason:
        lines.append(
            (
                "CV interval",
                f"95% prediction interval for the cross-validated response "
                f"[{c.cv_interval[0]:.4g}, {c.cv_interval[1]:.4g}] (what the study ranked on)",
            )
        )
    if c.interval_reason:
        lines.append(("Interval", c.interval_reason))
    for r in c.runs:
        if r.value is None:
            lines.append((f"Run (seed {r.train_seed})", f"failed: {r.error}"))
        else:
            where = "" if r.inside is None else (" inside" if r.inside else " OUTSIDE")
            lines.append((f"Run (seed {r.train_seed})", f"{c.metric}={r.value:.4g}{where}"))
    if c.mean is not None:
        lines.append(("Mean", f"{c.metric}={c.mean:.4g} over {len(c.runs)} runs (test split)"))
    lines.append(("Verdict", c.verdict))
    if c.version:
        lines.append(("Registered model", f"{c.model_name} version {c.version}"))
        lines.append(("Champion", f"{'yes' if c.champion else 'no'} ({c.gate_reason})"))
    else:
        lines.append(("Registered model", f"none ({c.gate_reason})"))
    lines += [("Note", n) for n in c.notes]
    width = max(len(k) for k, _ in lines) + 2
    return [f"{k + ':':<{width}}{v}" for k, v in lines]


__all__ = [
    "ConfirmationResult",
    "ConfirmationRun",
    "StageSummary",
    "confirm_command",
    "confirmation_lines",
    "stage_lines",
    "stage_markdown",
]
