"""The study report as a reader opens it (issue 33), in headless Chromium at 1400 px and at
a phone's 390 px: every figure draws, no title overlaps another, no label is cut off at
the figure's edge, and the prediction profiler's sliders redraw its curves from the model.

The reports are the shipped diabetes study's designs (its first stage, a 2^(5-2), and a
central composite design over three of its factors) with made-up responses: no training.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flows.config.sweep import load_sweep_config
from libs.doe import CentralComposite, FactorSpace, generate_design
from libs.doe.desirability import Desirability, overall_desirability
from libs.doe.responses import ResponseGoal, analyse_responses
from libs.doe.sweep import PointResult
from tasks.sweep_analysis import analyse_sweep, build_sweep_report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "sweeps" / "diabetes_gbr_study.yaml"
WIDTHS = (1400, 390)
SIZE = "model_size_bytes"
SCREENSHOTS = "MLOPS_SCREENSHOTS"  # a folder to keep the screenshots in, when set

# The text of a figure (titles, axis titles, annotations, ticks) with its box; only what is
# drawn (slider step labels are transparent on purpose).
_TEXTS = """div => {
  const svg = div.querySelector('svg.main-svg');
  const box = svg.getBoundingClientRect();
  const out = [];
  for (const root of div.querySelectorAll('svg.main-svg')) {
    for (const t of root.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      const fill = getComputedStyle(t).fill;
      const style = getComputedStyle(t);
      if (!t.textContent.trim() || r.width === 0 || fill === 'rgba(0, 0, 0, 0)'
          || parseFloat(style.fillOpacity) === 0 || parseFloat(style.opacity) === 0) continue;
      const g = t.closest('g');
      const title = !!t.closest('.g-gtitle, .g-xtitle, .g-ytitle, .annotation, .g-x2title, '
        + '.g-y2title, .slider-group') || /^(x|y)\\d*title$/.test(t.getAttribute('class') || '');
      out.push({text: t.textContent, title, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom,
                cls: t.getAttribute('class') || (g && g.getAttribute('class')) || ''});
    }
  }
  return {svg: {x0: box.left, y0: box.top, x1: box.right, y1: box.bottom}, texts: out};
}"""


def _stage(space: FactorSpace, design: Any, effect: Any, cost: Any = None) -> str:
    """The stage's report; with `cost`, a second response (model size) weighed against r2."""
    results = []
    for i, row in design.coded.iterrows():
        y = effect(row) + [0.002, -0.001, 0.003, -0.002][i % 4]
        metrics = {"r2": y} | ({"model_size_bytes": cost(row)} if cost else {})
        results.append(PointResult(i, design.points[i], "completed", metrics, y))
    analysis = analyse_sweep.fn(design, space, results, True)
    best = max(results, key=lambda r: r.objective)
    multi = None
    if cost is not None:
        goals = {"r2": ResponseGoal(metric="r2", weight=2), **{SIZE: ResponseGoal(metric=SIZE)}}
        natural = {"r2": "maximize", SIZE: "minimize"}
        multi = analyse_responses(design, space, results, goals, natural)
    return build_sweep_report.fn(
        "Diabetes study", design, space, results, analysis, "r2", best, {}, multi
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    config = load_sweep_config(CONFIG)
    lr, n, depth, leaf, _ = config.space.names
    folder = tmp_path_factory.mktemp("study-reports")
    screen = generate_design(config.space, config.design)
    three = FactorSpace(factors=config.space.factors[:3])
    ccd = generate_design(three, CentralComposite(face="inscribed"))

    def screening(r: Any) -> float:
        return 0.45 + 0.04 * r[lr] + 0.01 * r[n] - 0.02 * r[leaf]

    def surface(r: Any) -> float:
        return 0.5 + 0.03 * r[lr] - 0.02 * r[lr] ** 2 - 0.015 * r[n] ** 2 + 0.01 * r[lr] * r[depth]

    def size(r: Any) -> float:
        return 6e4 + 2e4 * r[depth] + 8e3 * r[n] + 500 * r[lr] ** 2

    out = {}
    for name, html in (
        ("screen", _stage(config.space, screen, screening)),
        ("surface", _stage(three, ccd, surface, size)),
    ):
        out[name] = folder / f"{name}.html"
        out[name].write_text(html, encoding="utf-8")
    return out


def _overlaps(a: dict[str, float], b: dict[str, float]) -> float:
    w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
    h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
    return max(w, 0) * max(h, 0)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("report", ["screen", "surface"])
def test_figures_draw_without_overlapping_titles_or_clipped_labels(
    browser, reports: dict[str, Path], report: str, width: int
) -> None:
    # given
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    # when
    page.goto(reports[report].as_uri(), wait_until="load")
    divs = page.query_selector_all("div.plotly-graph-div")
    page.wait_for_function(
        "n => document.querySelectorAll('div.plotly-graph-div svg.main-svg').length >= n",
        arg=len(divs),
        timeout=30_000,
    )
    figures = {
        div.evaluate("d => d.closest('section').querySelector('h2').textContent"): div.evaluate(
            _TEXTS
        )
        for div in divs
    }
    if os.environ.get(SCREENSHOTS):
        shot = Path(os.environ[SCREENSHOTS]) / f"{report}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
    page.close()
    # then: the study views are there, and the page drew without an error
    names = " | ".join(figures)
    assert "Prediction profiler" in names and "Runs in order, best so far" in names
    assert "Parallel coordinates" in names and "Slices" in names
    assert errors == []
    problems = []
    for name, info in figures.items():
        svg, texts = info["svg"], info["texts"]
        for t in texts:  # nothing cut off at the figure's edge
            if t["x0"] < svg["x0"] - 1 or t["x1"] > svg["x1"] + 1 or t["y0"] < svg["y0"] - 1:
                problems.append(f"{name} @{width}px: '{t['text']}' is clipped ({t['cls']})")
        titles = [t for t in texts if t["title"]]
        for i, a in enumerate(titles):  # no title drawn over another
            for b in titles[i + 1 :]:
                if _overlaps(a, b) > 4:
                    problems.append(f"{name} @{width}px: '{a['text']}' overlaps '{b['text']}'")
    assert problems == [], "\n".join(problems)


def test_profiler_slider_redraws_from_the_model(browser, reports: dict[str, Path]) -> None:
    """Moving one slider (learning_rate to its high end) moves every other panel's curve by
    what the model predicts; computed here from the same runs (the CCD over three factors)."""
    # given
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(reports["surface"].as_uri(), wait_until="load")
    selector = "section:has(h2:text-matches('Prediction profiler')) div.plotly-graph-div"
    page.wait_for_selector(f"{selector} svg.main-svg", timeout=30_000)
    div = page.query_selector(selector)
    before = div.evaluate("d => d.data.map(t => t.y.slice())")
    meta = div.evaluate("d => d.layout.meta.profiler")
    # when: the first slider moves to its last step
    last = len(meta["grids"][0]) - 1
    div.evaluate(
        "(d, last) => d.emit('plotly_sliderchange', "
        "{slider: {name: 'f0'}, step: {value: String(last)}})",
        last,
    )
    after = div.evaluate("d => d.data.map(t => t.y.slice())")
    page.close()
    # then: the second factor's curve (traces 4-7: band, band, curve, marker) is the model's
    # prediction along it with learning_rate at its high end
    terms = [tuple(t) for t in meta["terms"]]
    x = np.array([g[a] for g, a in zip(meta["grids"], meta["active"], strict=True)])
    x[0] = meta["grids"][0][last]
    rows = np.tile(x, (len(meta["grids"][1]), 1))
    rows[:, 1] = meta["grids"][1]
    f = np.column_stack(
        [np.prod(rows[:, list(t)], axis=1) if t else np.ones(len(rows)) for t in terms]
    )
    expected = f @ np.array(meta["beta"])
    assert after[6] == pytest.approx(list(expected), abs=1e-9)
    assert after[6] != pytest.approx(before[6], abs=1e-6)
    # and: the overall desirability's row (r2 against model size) moved the same way: D along
    # the second factor from each response's model and goal, as libs.doe computes it
    d = meta["desirability"]
    predicted = {}
    for name, model in zip(("r2", SIZE), d["models"], strict=True):
        cols = [tuple(t) for t in model["terms"]]
        g = np.column_stack(
            [np.prod(rows[:, list(t)], axis=1) if t else np.ones(len(rows)) for t in cols]
        )
        predicted[name] = g @ np.array(model["beta"])
    goals = {n: Desirability(**g) for n, g in zip(("r2", SIZE), d["goals"], strict=True)}
    curve = d["first"] + d["traces"] * 1
    assert after[curve] == pytest.approx(list(overall_desirability(predicted, goals)), abs=1e-9)
    assert after[curve] != pytest.approx(before[curve], abs=1e-6)
