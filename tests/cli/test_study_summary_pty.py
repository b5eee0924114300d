"""The shipped diabetes study as a user runs it from the docs, on a pseudo-terminal
(issue 33): each stage's summary opens with what it learned, in factor names without
float noise or design letters, and its next-step command runs as printed."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from cli_support import cli_env
from test_terminal_output import run_in_pty, screen_segments

pytestmark = pytest.mark.slow

NOISE = re.compile(r"\d*\.\d*(0{6,}|9{6,})\d")  # 0.20000000000000004, 0.6499999999
LONG = re.compile(r"\d\.\d{7,}")  # more digits than anyone reads
LETTER_WORDS = re.compile(r"(?<![\w.-])[A-H]{2,3}(?![\w.])")  # AB, BCD: design letters


def _summary(raw: str) -> list[str]:
    """The summary block's lines (after 'Sweep complete.')."""
    lines = [s.rstrip() for s in screen_segments(raw)]
    start = next(i for i, s in enumerate(lines) if s.strip() == "Sweep complete.")
    return [s.strip() for s in lines[start + 1 :]]


def _check(summary: list[str]) -> str:
    """What every stage's summary must be; returns its next-step command."""
    assert summary[0].startswith("Learned:"), summary[:5]
    learned = [s for s in summary if s.startswith("Learned:")]
    assert any(("raises" in s or "lowers" in s or "No setting" in s) for s in learned), learned
    text = "\n".join(summary)
    assert "model.params." not in text, text
    assert not NOISE.search(text), NOISE.search(text)
    assert not LONG.search(text), LONG.search(text)
    assert not LETTER_WORDS.search(text), LETTER_WORDS.search(text)
    labels = [s.split(":", 1)[0] for s in summary]
    assert labels.index("Next stage") < labels.index("Parent MLflow run")
    line = next(s for s in summary if s.startswith("Next stage:"))
    return line.split(":", 1)[1].strip().split(" (", 1)[0]


def test_each_stage_reads_in_names_and_its_next_step_runs(tmp_path: Path) -> None:
    # given: the docs' first command
    env = cli_env(tmp_path / "state")
    config = "configs/sweeps/diabetes_gbr_study.yaml"
    # when
    code, raw = run_in_pty([sys.executable, "-m", "flows.sweep", "--config", config], env)
    # then
    assert code == 0, raw[-3000:]
    summary = _summary(raw)
    command = _check(summary)
    assert command.startswith("python -m flows.sweep --fold-over ")
    # and: the report's visible text (notes, tables, metrics) has no float noise either
    report = Path(next(s for s in summary if s.startswith("Report:")).split(":", 1)[1].strip())
    html = report.read_text(encoding="utf-8").split('id="plotly-bundle"')[0]
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", html, flags=re.S))
    assert not LONG.search(visible) and not NOISE.search(visible), LONG.search(visible)
    # and: MLflow's params and run names in short names, the full key kept in the factor's spec
    from mlflow import MlflowClient

    store = MlflowClient(f"sqlite:///{tmp_path / 'state' / 'mlflow.db'}")
    parent_id = next(s for s in summary if s.startswith("Parent MLflow run:")).split()[3]
    parent = store.get_run(parent_id)
    assert "factor.learning_rate" in parent.data.params
    assert not any(k.startswith("factor.model.") for k in parent.data.params)
    children = store.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    names = [c.data.tags["mlflow.runName"] for c in children]
    assert len(names) == 8 and all(n.startswith("learning_rate=") for n in names), names
    assert not any(LONG.search(n) or NOISE.search(n) for n in names), names
    # when: the next step, exactly as printed
    code, raw = run_in_pty([sys.executable, *shlex.split(command)[1:]], env)
    # then: it runs, and its summary reads the same way
    assert code == 0, raw[-3000:]
    second = _summary(raw)
    _check(second)
