"""Every value a person reads is rounded to what its factor's range warrants (issue 33): the
terminal summary of a stage and of a confirmation (also as `str()` and in a notebook, for
`flows.api`), and the report's tables of settings (results, path), never float noise."""

from __future__ import annotations

import re

import pandas as pd

from libs.doe.names import Namer
from libs.doe.recommend import Recommendation
from libs.doe.space import FactorSpace
from libs.plots.doe_sweep import named
from libs.study_results import ConfirmationResult, ConfirmationRun, StageSummary

LONG = re.compile(r"\d\.\d{7,}")  # 0.20000000000000004, 0.10763829
SPACE = FactorSpace(
    factors=[
        {
            "name": "model.params.learning_rate",
            "type": "continuous",
            "low": 0.02,
            "high": 0.2,
            "scale": "log",
        },
        {"name": "model.params.n_estimators", "type": "integer", "low": 30, "high": 70},
        {"name": "model.params.subsample", "type": "continuous", "low": 0.5, "high": 0.8},
    ]
)
LR, N, SUB = SPACE.names
NOISY = {LR: 0.10763829174, N: 54, SUB: 0.65432198765}


def summary(space: FactorSpace | None) -> StageSummary:
    rec = Recommendation(
        settings=dict(NOISY),
        predicted=0.51234567,
        interval=(0.4512345, 0.5734567),
        source="model",
        reason=f"the surface's best point, {LR}={NOISY[LR]}",
    )
    return StageSummary(
        parent_run_id="p",
        run_url="u",
        experiment="e",
        sweep_id="0123456789abcdef",
        design="central_composite",
        points=20,
        completed=20,
        reused=0,
        failed=0,
        metric="r2",
        direction="maximize",
        top_effects=[(LR, 0.0597537123), (f"{LR}:{SUB}", -0.0158123456)],
        optimum=dict(NOISY),
        predicted_optimum=0.51819234,
        surface_r2=0.99400612,
        best_index=12,
        best_point={LR: 0.12500000000000003, N: 62, SUB: 0.6499999999999999},
        best_value=0.5133123,
        best_run_id="r",
        model_name=None,
        version=None,
        champion=False,
        gate_reason="registration disabled",
        report_uri="",
        ui_command="",
        notes=[f"saddle point: best fitted point {LR}={NOISY[LR]}, {SUB}={NOISY[SUB]}"],
        recommendation=rec,
        confirm="python -m flows.sweep --confirm 0123456789ab --runs 3",
        space=space,
    )


def test_a_stage_summary_rounds_each_value_by_its_factors_range() -> None:
    # when: printed (the terminal), as str() (flows.api) and in a notebook
    text, markdown = str(summary(SPACE)), summary(SPACE)._repr_markdown_()
    # then: a log factor to 3 significant figures, a linear one to a hundredth of its range
    assert "learning_rate=0.108, n_estimators=54, subsample=0.654" in text
    assert "learning_rate=0.125, n_estimators=62, subsample=0.65" in text
    for shown in (text, markdown):
        assert not LONG.search(shown), LONG.search(shown)
        assert "model.params." not in shown
    assert "| Recommendation | learning_rate=0.108, n_estimators=54, subsample=0.654 |" in markdown
    # without the space (a summary built elsewhere) still no noise, to 4 digits
    assert "learning_rate=0.1076" in str(summary(None))
    assert not LONG.search(str(summary(None)))


def test_a_confirmation_rounds_its_setting_by_range() -> None:
    # given
    result = ConfirmationResult(
        sweep_id="0123456789abcdef",
        metric="r2",
        settings=dict(NOISY),
        predicted=0.51234567,
        interval=(0.40123456, 0.62345678),
        runs=[ConfirmationRun(7, 0.50123456789, True, "run")],
        inside=1,
        verdict="1 of 1 confirmation runs fall inside the 95% prediction interval",
        gate_reason="registration disabled",
        notes=[f"{N}: held at 54.0"],
        space=SPACE,
    )
    # when
    text = str(result)
    # then
    assert "learning_rate=0.108, n_estimators=54, subsample=0.654" in text
    assert not LONG.search(text) and "model.params." not in text


def test_report_tables_show_settings_with_their_ranges_digits() -> None:
    # given: a path of steepest ascent as the analysis tables it (full keys, raw values)
    path = pd.DataFrame(
        {
            "step": [0, 1, 2],
            LR: [0.0632455532, 0.10763829174, 0.17320508],
            N: [50.0, 54.0, 58.0],
            SUB: [0.65, 0.70000000000000004, 0.75432198],
            "beyond (coded)": [0.0, 0.0, 0.0],
        }
    )
    # when
    shown = named(path, Namer.of(SPACE))
    # then: short names, each factor's digits (the step and other columns as they were)
    assert list(shown.columns) == [
        "step",
        "learning_rate",
        "n_estimators",
        "subsample",
        "beyond (coded)",
    ]
    assert list(shown["learning_rate"]) == [0.0632, 0.108, 0.173]
    assert list(shown["n_estimators"]) == [50, 54, 58]
    assert list(shown["subsample"]) == [0.65, 0.7, 0.754]
