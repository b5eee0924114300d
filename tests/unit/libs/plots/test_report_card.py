"""The training report reads as an evaluation card: verdict, gate, run, data, config, metrics."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from libs.gate import GateDecision
from libs.plots import evaluation_figures, render_report
from libs.plots.card import CardFacts, data_profile, evaluation_header

NAMES = {0: "malignant", 1: "benign"}


def _gate(promote: bool, champion: float | None = 0.95) -> GateDecision:
    return GateDecision(
        metric="accuracy",
        candidate=0.97,
        threshold=0.9,
        champion=champion,
        champion_version="3" if champion is not None else None,
        passed_threshold=True,
        beats_champion=promote,
        promote=promote,
        reason="accuracy 0.9700 >= 0.9; beats champion v3 (0.9500)",
        interval=(0.94, 0.99),
    )


@pytest.fixture
def split() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"size": rng.normal(size=100), "kind": ["a", "b"] * 50})
    y = pd.Series([0] * 30 + [1] * 70)
    return x.iloc[:80], x.iloc[80:], y.iloc[:80], y.iloc[80:]


def _page(split, facts: CardFacts) -> str:
    x_train, x_test, y_train, y_test = split
    header = evaluation_header(
        facts, data_profile(x_train, x_test, y_train, y_test, "classification", NAMES)
    )
    rng = np.random.default_rng(1)
    proba = rng.random(20)
    y_true = np.asarray([NAMES[v] for v in y_test], dtype=object)
    y_pred = np.where(proba > 0.5, "benign", "malignant").astype(object)
    figures = evaluation_figures(
        "classification", y_true, y_pred, np.c_[1 - proba, proba], ["malignant", "benign"]
    )
    return render_report(
        "m: evaluation",
        {"accuracy": 0.97, "log_loss": 0.1},
        figures,
        {"run id": "r1", "duration": "12.0 s", "commit": "abc", "data digest": "sha256:d"},
        header=header,
        intervals={"accuracy": (0.94, 0.99)},
    )


def _headings(page: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", page)


def test_card_sections_come_in_reading_order(split) -> None:
    # given / when
    page = _page(split, CardFacts("m", "4", True, "beats champion", _gate(True), {"model.C": "1"}))
    # then: verdict first, then gate, run, metrics, data, config, then the figures
    heads = _headings(page)
    assert heads[:6] == [
        "Gate: candidate against the champion",
        "Run",
        "Metrics",
        "Data",
        "Class balance",
        "Config",
    ]
    assert heads[6] == "Confusion matrix"
    assert '<span class="badge yes">champion</span>' in page
    assert "m version 4: now the champion (beats champion)" in page


def test_gate_table_compares_the_candidate_with_the_champion(split) -> None:
    # given / when
    page = _page(split, CardFacts("m", "4", False, "does not beat", _gate(False)))
    # then
    assert '<span class="badge no">not champion</span>' in page
    assert "v3: 0.95" in page
    assert "0.97 (95% interval 0.94 to 0.99)" in page
    assert re.search(r"<td>champion</td>.*?<td>fail</td>", page, re.S)


def test_unregistered_run_says_so_and_has_no_gate(split) -> None:
    # given / when
    page = _page(split, CardFacts("m"))
    # then
    assert "not registered" in page
    assert "Gate: candidate against the champion" not in _headings(page)


def test_data_profile_counts_rows_split_and_classes_by_name(split) -> None:
    # given
    x_train, x_test, y_train, y_test = split
    # when
    blocks = dict(data_profile(x_train, x_test, y_train, y_test, "classification", NAMES))
    # then
    facts = dict(blocks["Data"].rows)  # type: ignore[union-attr]
    assert facts["rows"] == "100"
    assert facts["split"] == "train 80, test 20"
    assert facts["columns"].startswith("2 features (1 numeric, 1 other)")
    balance = blocks["Class balance"].frame  # type: ignore[union-attr]
    assert list(balance["class"]) == ["malignant", "benign"]
    assert list(balance["train"] + balance["test"]) == [30, 70]


def test_regression_profile_has_no_class_balance(split) -> None:
    # given
    x_train, x_test, _, _ = split
    y = pd.Series(np.linspace(0, 1, 100))
    # when
    blocks = dict(data_profile(x_train, x_test, y.iloc[:80], y.iloc[80:], "regression"))
    # then
    assert set(blocks) == {"Data"}


def test_metrics_show_their_bootstrap_interval(split) -> None:
    # given / when
    page = _page(split, CardFacts("m"))
    # then
    assert "95% bootstrap interval" in page
    assert re.search(
        r"<th>accuracy</th><td class=\"value\">0\.97</td>\s*<td[^>]*>0\.94 to 0\.99", page
    )


def test_figures_name_classes_and_have_one_title_each(split) -> None:
    # given / when
    page = _page(split, CardFacts("m"))
    # then: class names on the axes, not 0/1
    confusion = page.split('data-target="figure-0-confusion-matrix">', 1)[1].split("</script>")[0]
    assert '"malignant"' in confusion and '"benign"' in confusion
    assert '"title":{"text":"Confusion matrix"' not in page
