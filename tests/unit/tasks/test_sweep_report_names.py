"""The shipped diabetes study's first stage as a reader sees it (issue 33), on a made-up
response (no training): what was learned comes first, in short factor names and values
without float noise; the config keys appear only in the factors table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.config.sweep import load_sweep_config
from libs.doe import generate_design
from libs.doe.stages import next_step_hint
from libs.doe.summary import LEARNED, SweepSummary, summary_lines
from libs.doe.sweep import PointResult
from tasks.sweep_analysis import analyse_sweep, build_sweep_report

pytestmark = pytest.mark.slow  # the report embeds plotly.js and draws every figure

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "sweeps" / "diabetes_gbr_study.yaml"
NOISE = re.compile(r"\d*\.\d*(0{6,}|9{6,})\d")  # 0.20000000000000004, 0.6499999999
LONG = re.compile(r"\d\.\d{7,}")  # more digits than anyone reads: 0.00873865


@pytest.fixture(scope="module")
def stage() -> tuple[object, object, list[PointResult], object]:
    config = load_sweep_config(CONFIG)
    design = generate_design(config.space, config.design)
    lr, n = config.space.names[0], config.space.names[1]
    results = []
    for i, row in design.coded.iterrows():
        r2 = 0.45 + 0.04 * row[lr] + 0.01 * row[n] + [0.002, -0.001][i % 2]
        results.append(PointResult(i, design.points[i], "completed", {"r2": r2}, r2))
    analysis = analyse_sweep.fn(design, config.space, results, True)
    return config, design, results, analysis


def test_stage_notes_start_with_what_was_learned(stage: tuple) -> None:
    # given
    _, _, _, analysis = stage
    # then: learned sentences first, in names, with the metric's name
    assert analysis.notes[0].startswith(LEARNED)
    first = analysis.notes[0].removeprefix(LEARNED)
    assert "learning_rate" in first and "r2" in first and "model.params" not in first
    assert not any(re.search(r"\b[A-E]{2}\b", n) for n in analysis.notes)  # no letter words


def test_report_reads_in_names_with_learned_first(stage: tuple) -> None:
    # given
    config, design, results, analysis = stage
    # when
    html = build_sweep_report.fn(
        "stage 1", design, config.space, results, analysis, "r2", results[0], {}
    )
    # then: "What we learned" is the first section, before the run details
    assert html.index("What we learned") < html.index("<h2>Run</h2>")
    # config keys only in the factors table (and in the embedded plotly bundle: none)
    body = html.split('id="plotly-bundle"')[0]
    factors = body.index("<h2>Factors</h2>") if "<h2>Factors</h2>" in body else len(body)
    assert "model.params." not in body[:factors].replace("model.params.</", "")
    assert "model.params.learning_rate" in body[factors:]
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", body, flags=re.S))
    assert not NOISE.search(visible)
    assert not LONG.search(visible), LONG.search(visible)  # the metrics table's effects too


def test_terminal_summary_leads_with_learned_and_the_next_step(stage: tuple) -> None:
    # given: a summary carrying the analysis' notes (as the sweep flow builds it)
    _, _, results, analysis = stage
    best = results[0]
    fields = dict.fromkeys(SweepSummary.__dataclass_fields__, "")
    fields |= {
        "top_effects": analysis.top_effects(),
        "optimum": None,
        "predicted_optimum": None,
        "surface_r2": None,
        "best_point": {**best.point, "model.params.subsample": 0.65000000000000002},
        "best_value": 0.4512345678901,
        "best_index": 0,
        "version": None,
        "notes": list(analysis.notes),
        "points": 8,
        "completed": 8,
        "reused": 0,
        "failed": 0,
        "metric": "r2",
        "next_step": "python -m flows.sweep --fold-over abc123 (8 runs: frees the main effects)",
    }
    # when
    lines = summary_lines(SweepSummary(**fields))
    # then
    assert lines[0].startswith("Learned:")
    labels = [line.split(":", 1)[0] for line in lines]
    assert labels.index("Next stage") < labels.index("Parent MLflow run")
    text = "\n".join(lines)
    assert "model.params" not in text and not NOISE.search(text)
    assert "subsample=0.65" in text
    assert not any(re.search(r"\b[A-E]{2}\b", line) for line in lines)


def test_next_step_says_its_cost_and_what_it_answers(stage: tuple) -> None:
    # given: the shipped study's resolution III screen
    config, design, results, analysis = stage
    # when
    hint = next_step_hint(design, analysis.result, "0123456789abcdef")
    html = build_sweep_report.fn(
        "stage 1",
        design,
        config.space,
        results,
        analysis,
        "r2",
        results[0],
        {"next stage": hint},
    )
    # then: the command, its cost in runs, and what it separates, in names
    assert hint.startswith("python -m flows.sweep --fold-over 0123456789ab (8 more runs")
    assert "e.g. learning_rate from " in hint and "model.params" not in hint
    learned = html.split("What we learned")[1].split("<h2>")[0]
    assert "next step" in learned and "--fold-over 0123456789ab" in learned


def test_each_other_response_gets_its_profiler(stage: tuple) -> None:
    # given: a second response, the model's size, growing with the number of trees
    from libs.doe.responses import ResponseGoal
    from tasks.sweep_analysis import analyse_responses

    config, design, results, analysis = stage
    n = config.space.names[1]
    sized = [
        PointResult(
            r.index,
            r.point,
            "completed",
            {**r.metrics, "model_size_bytes": 1e4 + 5e3 * design.coded.iloc[r.index][n]},
            r.objective,
        )
        for r in results
    ]
    goals = {m: ResponseGoal(metric=m) for m in ("r2", "model_size_bytes")}
    natural = {"r2": "maximize", "model_size_bytes": "minimize"}
    multi = analyse_responses.fn(design, config.space, sized, goals, natural)
    # when
    html = build_sweep_report.fn(
        "stage 1", design, config.space, sized, analysis, "r2", sized[0], {}, multi
    )
    # then: one profiler for r2, one for the size (none twice for r2)
    assert html.count("<h2>Prediction profiler (") == 1
    assert "<h2>Prediction profiler: model_size_bytes (" in html
