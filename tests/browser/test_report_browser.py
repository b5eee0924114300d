"""The HTML report renders every figure in headless Chromium, offline, without errors."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from libs.plots import (
    evaluation_figures,
    feature_importance_figure,
    figure_div_id,
    history_figure,
    render_report,
)

pytestmark = pytest.mark.browser


def _report_figures() -> list:
    rng = np.random.default_rng(0)
    classes = ["setosa", "versicolor", "virginica"]
    y_true = rng.choice(classes, size=60)
    proba = rng.dirichlet(np.ones(3), size=60)
    y_pred = np.asarray(classes)[proba.argmax(axis=1)]
    actual = rng.normal(size=40)
    predicted = actual + rng.normal(scale=0.3, size=40)
    importance = pd.DataFrame(
        {
            "feature": ["petal length", "petal width", "sepal length"],
            "importance_mean": [0.3, 0.2, 0.05],
            "importance_std": [0.02, 0.03, 0.01],
        }
    )
    return [
        *evaluation_figures("classification", y_true, y_pred, proba, classes),
        *evaluation_figures("regression", actual, predicted),
        ("Feature importance", feature_importance_figure(importance)),
        ("Training history", history_figure({"loss": [0.9, 0.6, 0.4], "val_loss": [1, 0.8, 0.7]})),
    ]


def test_every_figure_of_the_report_draws_in_chromium(browser, tmp_path: Path) -> None:
    # given
    figures = _report_figures()
    report = tmp_path / "report.html"
    report.write_text(
        render_report("Browser check", {"accuracy": 0.5}, figures, {"run id": "r1"}),
        encoding="utf-8",
    )
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # when
    started = time.monotonic()
    page.goto(report.as_uri(), wait_until="load")
    drawn = {}
    for index, (name, _) in enumerate(figures):
        selector = f"#{figure_div_id(index, name)}"
        page.wait_for_selector(f"{selector} svg.main-svg", timeout=15_000)
        drawn[name] = page.eval_on_selector(
            selector,
            """div => {
                const svg = div.querySelector('svg.main-svg');
                const box = svg.getBoundingClientRect();
                return {
                    width: box.width,
                    height: box.height,
                    traces: svg.querySelectorAll('g.trace, g.hm').length,
                };
            }""",
        )
    elapsed = time.monotonic() - started
    page.close()
    # then
    assert len(drawn) == len(figures) == 8
    for name, info in drawn.items():
        assert info["width"] > 0 and info["height"] > 0, f"{name}: empty svg {info}"
        assert info["traces"] > 0, f"{name}: no trace drawn"
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests
    assert elapsed < 30


def test_a_report_table_sorts_by_the_clicked_column(browser, tmp_path: Path) -> None:
    # given: a results table whose numeric column sorts differently as text
    from libs.plots import Table

    frame = pd.DataFrame({"point": [0, 1, 2], "objective.accuracy": [0.9, 10.0, 2.5]})
    report = tmp_path / "report.html"
    report.write_text(render_report("t", {}, [("Results", Table(frame))]), encoding="utf-8")
    page = browser.new_page()
    page.goto(report.as_uri(), wait_until="load")
    column = "table.data tbody td:nth-child(2)"
    # when: one click sorts ascending, a second descending
    page.click("table.data th:nth-child(2)")
    ascending = page.eval_on_selector_all(column, "cells => cells.map(c => c.textContent)")
    page.click("table.data th:nth-child(2)")
    descending = page.eval_on_selector_all(column, "cells => cells.map(c => c.textContent)")
    page.close()
    # then: numbers sort as numbers
    assert ascending == ["0.9", "2.5", "10"]
    assert descending == ["10", "2.5", "0.9"]
