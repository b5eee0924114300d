"""The design-evaluation section of a sweep report: the figures `--evaluate` prints.

Reference for the numbers: the 2^4 full factorial is orthogonal, so for the
main-effects-plus-interactions model every VIF is 1 and its D-efficiency
100% (Montgomery, *Design and Analysis of Experiments*, 8th ed., 6.5, 6.7).
"""

from __future__ import annotations

import pytest

from libs.doe import FactorSpace, FullFactorial, generate_design
from libs.doe.evaluate import evaluate_design
from libs.doe.sweep import PointResult
from libs.plots.design_evaluation import TITLE, evaluation_sections
from libs.plots.report import KeyValues, Table
from tasks.sweep_analysis import analyse_sweep, build_sweep_report

FOUR = FactorSpace.model_validate(
    {
        "factors": [
            {"name": f"model.params.{n}", "type": "continuous", "low": 0, "high": 1}
            for n in ("alpha", "beta", "gamma", "delta")
        ]
    }
)


def test_the_section_shows_what_evaluate_computes_for_the_planned_design() -> None:
    # given: the 2^4 factorial
    design = generate_design(FOUR, FullFactorial(run_order="standard"))
    expected = evaluate_design(design.coded, FOUR)
    # when
    sections, figures = evaluation_sections(design, FOUR)
    # then: headline rows, in short names, the same numbers as libs.doe.evaluate
    (title, head), (_, terms) = sections
    assert title == TITLE and isinstance(head, KeyValues) and isinstance(terms, Table)
    rows = dict(head.rows)
    assert rows["runs"] == "16" and rows["model"] == expected.model == "interactions"
    assert rows["D-efficiency %"] == "100" and rows["max VIF"] == "1"
    table = terms.frame.set_index("term")
    assert list(table.index) == list(expected.terms)
    assert "alpha*beta" in table.index and not any("model.params" in t for t in table.index)
    assert table["VIF"].tolist() == pytest.approx([1.0] * len(table))
    assert table["power, coefficient 1 SD"].tolist() == pytest.approx(
        expected.power[1.0].round(3).tolist()
    )
    # and: the |r| map covers the model's columns against the quadratics left out
    (name, figure) = figures[0]
    assert name.startswith("Correlation map of model terms")
    assert list(figure.data[0].y) == list(expected.correlations.index)
    assert "alpha^2" in list(figure.data[0].x)


def test_a_design_that_cannot_be_judged_gets_one_line() -> None:
    # given: an explicit single run (a path stage's first point, say)
    from libs.studies import explicit_design

    design = explicit_design(FOUR, "path", [dict.fromkeys(FOUR.names, 0.5)])
    # when
    sections, figures = evaluation_sections(design, FOUR)
    # then: one section says why, with no power or variance to misread, and no map
    assert [name for name, _ in sections] == [TITLE] and figures == []
    rows = dict(sections[0][1].rows)  # type: ignore[union-attr]
    assert rows["parameters"] == "5" and "estimates only 1 of them" in rows["note"]
    assert "D-efficiency %" not in rows


@pytest.mark.slow  # renders the whole report (plotly.js embedded)
def test_every_sweep_report_opens_with_the_design_evaluation() -> None:
    # given: a finished 2^4 sweep on a made-up response
    design = generate_design(FOUR, FullFactorial(run_order="standard"))
    first = FOUR.names[0]
    results = [
        PointResult(i, design.points[i], "completed", {"r2": v}, v)
        for i, v in enumerate(0.5 + 0.1 * design.coded[first] + 0.01 * (design.coded.index % 3))
    ]
    analysis = analyse_sweep.fn(design, FOUR, results, True)
    # when
    html = build_sweep_report.fn("s", design, FOUR, results, analysis, "r2", results[0], {})
    # then: the evaluation sits above the run details, its map among the figures
    assert html.index(TITLE) < html.index("<h2>Run</h2>")
    assert "Correlation map of model terms" in html
