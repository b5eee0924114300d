"""The outcome of a DOE sweep as text: the CLI's summary and the Prefect artifact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from libs.doe.names import Namer
from libs.doe.space import FactorSpace

# Notes that say what a stage learned carry this mark; the summary shows them first.
LEARNED = "learned: "


@dataclass(frozen=True)
class SweepSummary:
    """What a person needs after a sweep: where it is, what it found, what got registered."""

    parent_run_id: str
    run_url: str
    experiment: str
    sweep_id: str
    design: str
    points: int
    completed: int
    reused: int
    failed: int
    metric: str
    direction: str
    top_effects: list[tuple[str, float]]
    optimum: dict[str, Any] | None
    predicted_optimum: float | None
    surface_r2: float | None
    best_index: int | None
    best_point: dict[str, Any] | None
    best_value: float | None
    best_run_id: str | None
    model_name: str | None
    version: str | None
    champion: bool
    gate_reason: str
    report_uri: str
    ui_command: str
    notes: list[str]
    optimum_kind: str = "optimum"  # or "best point inside the region (saddle, ...)"
    significance: str = ""
    study: list[str] = field(default_factory=list)  # the study's stages, in words
    desirability: list[str] = field(default_factory=list)  # goals, then the optimum
    next_step: str = ""  # the next stage's command, when the analysis proposes one
    # the study's FactorSpace: each value is shown with the digits its factor's range warrants
    space: Any = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        """The summary as the terminal prints it: short names, values rounded by range."""
        said = namer(self)
        return "\n".join(said.text(line) for line in summary_lines(self))


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def namer(s: SweepSummary) -> Namer:
    """Short names for the summary's factors (the keys of its best point or optimum)."""
    keys = list(s.best_point or s.optimum or {})
    recommendation = getattr(s, "recommendation", None)  # a study stage's: every factor
    keys += [k for k in getattr(recommendation, "settings", None) or {} if k not in keys]
    space = s.space if isinstance(s.space, FactorSpace) else None
    if space is not None:  # every factor of the study, each rounded by its range
        keys += [k for k in space.names if k not in keys]
    return Namer.of(keys, space)


def summary_lines(s: SweepSummary) -> list[str]:
    """The summary as aligned `label: value` lines (the CLI and the Prefect artifact), in
    short factor names and values without float noise; what was learned first."""
    said = namer(s)
    lines = _lines(s, said)
    learned = [(k, v) for k, v in lines if k == "Note" and v.startswith(LEARNED)]
    rest = [(k, v) for k, v in lines if (k, v) not in learned]
    top = [("Learned", v.removeprefix(LEARNED)) for _, v in learned]
    if top and s.next_step:  # the one next step, right below what was learned
        rest = [(k, v) for k, v in rest if k != "Next stage"]
        top.append(("Next stage", s.next_step))
    lines = [(k, said.text(v)) for k, v in [*top, *rest]]
    width = max(len(k) for k, _ in lines) + 2
    return [f"{k + ':':<{width}}{v}" for k, v in lines]


def _lines(s: SweepSummary, said: Namer) -> list[tuple[str, str]]:
    ran = s.completed - s.reused
    lines = [
        ("Parent MLflow run", f"{s.parent_run_id} (experiment '{s.experiment}')"),
        ("Run page", s.run_url),
        (
            "Design",
            f"{s.design}, {s.points} points: {ran} trained, {s.reused} reused, {s.failed} failed",
        ),
        ("Objective", f"{s.direction} {s.metric}"),
        (
            "Top effects",
            ", ".join(f"{said.term(k)} {v:+.4g}" for k, v in s.top_effects) or "none estimated",
        ),
    ]
    if s.optimum is not None and s.predicted_optimum is not None:
        at = ", ".join(f"{k}={_fmt(v)}" for k, v in s.optimum.items())
        r2 = f" (surface R2 {s.surface_r2:.3f})" if s.surface_r2 is not None else ""
        found = f"{s.metric}={s.predicted_optimum:.4g} at {at}{r2}"
        if s.optimum_kind.startswith("optimum"):
            lines.append(("Fitted optimum", found))
        else:
            # a saddle or a boundary point is not an optimum: say what it is
            lines.append(("Fitted optimum", f"none: {s.optimum_kind}"))
            lines.append(("Best fitted point", found))
    else:
        lines.append(("Fitted optimum", "none (no response surface for this design)"))
    if s.significance:
        lines.append(("Significance", s.significance))
    lines += [("Desirability", line) for line in s.desirability]
    lines += [("Study stage", line) for line in s.study]
    if s.next_step:
        lines.append(("Next stage", s.next_step))
    if s.best_point is not None and s.best_value is not None:
        at = ", ".join(f"{k}={_fmt(v)}" for k, v in s.best_point.items())
        lines.append(("Best point", f"#{s.best_index}: {s.metric}={s.best_value:.4g} ({at})"))
        lines.append(("Best run", str(s.best_run_id)))
    else:
        lines.append(("Best point", "none (no point completed)"))
    if s.version:
        lines.append(("Registered model", f"{s.model_name} version {s.version}"))
        lines.append(("Champion", f"{'yes' if s.champion else 'no'} ({s.gate_reason})"))
    else:
        lines.append(("Registered model", f"none ({s.gate_reason})"))
    lines += [("Report", s.report_uri), ("MLflow UI", s.ui_command)]
    lines += [("Note", note) for note in s.notes]
    return lines


def summary_markdown(s: SweepSummary) -> str:
    rows = "\n".join(
        f"| {line.split(':', 1)[0]} | {line.split(':', 1)[1].strip()} |"
        for line in summary_lines(s)
    )
    return f"# DOE sweep {s.sweep_id[:12]}\n\n| | |\n|---|---|\n{rows}\n"


__all__ = ["LEARNED", "SweepSummary", "namer", "summary_lines", "summary_markdown"]
