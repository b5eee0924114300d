"""Figures carry the expected traces for small inputs; the report is one offline page."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from libs.errors import InputError
from libs.plots import (
    PlotInputError,
    calibration_figure,
    confusion_matrix_figure,
    evaluation_figures,
    feature_importance_figure,
    figure_div_id,
    history_figure,
    permutation_importance_table,
    pr_curve_figure,
    predicted_vs_actual_figure,
    render_report,
    residuals_figure,
    roc_curve_figure,
)

Y_BINARY = np.array([0, 0, 1, 1])
P_BINARY = np.array([0.1, 0.4, 0.35, 0.8])
Y_MULTI = np.array(["a", "b", "c", "a", "b", "c"])
P_MULTI = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.2, 0.7, 0.1],
        [0.1, 0.2, 0.7],
        [0.5, 0.3, 0.2],
        [0.3, 0.4, 0.3],
        [0.2, 0.5, 0.3],
    ]
)


def _names(figure: go.Figure) -> list[str]:
    return [trace.name for trace in figure.data]


# --- classification -----------------------------------------------------------------------


def test_confusion_matrix_counts_true_rows_against_predicted_columns() -> None:
    # given
    y_true = ["cat", "cat", "dog", "dog", "dog"]
    y_pred = ["cat", "dog", "dog", "dog", "cat"]
    # when
    figure = confusion_matrix_figure(y_true, y_pred)
    # then
    (heatmap,) = figure.data
    assert heatmap.type == "heatmap"
    assert list(heatmap.x) == ["cat", "dog"]
    assert np.asarray(heatmap.z).tolist() == [[1, 1], [1, 2]]


def test_confusion_matrix_follows_given_label_order() -> None:
    # given
    labels = [2, 1, 0]
    # when
    figure = confusion_matrix_figure([0, 1, 2, 2], [0, 1, 2, 1], labels=labels)
    # then
    assert list(figure.data[0].y) == ["2", "1", "0"]
    assert np.asarray(figure.data[0].z).tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_binary_roc_has_positive_class_curve_and_chance_line() -> None:
    # given / when
    figure = roc_curve_figure(Y_BINARY, P_BINARY, classes=[0, 1])
    # then: AUC of these scores is 0.75
    assert _names(figure) == ["1 (AUC 0.750)", "chance"]
    curve = figure.data[0]
    assert curve.x[0] == 0.0 and curve.y[-1] == 1.0


def test_binary_roc_accepts_two_probability_columns() -> None:
    # given
    two_columns = np.column_stack([1 - P_BINARY, P_BINARY])
    # when
    figure = roc_curve_figure(Y_BINARY, two_columns, classes=[0, 1])
    # then
    assert figure.data[0].name == "1 (AUC 0.750)"


def test_multiclass_roc_is_one_vs_rest_per_class() -> None:
    # given / when
    figure = roc_curve_figure(Y_MULTI, P_MULTI, classes=["a", "b", "c"])
    # then
    assert [name.split(" ")[0] for name in _names(figure)] == ["a", "b", "c", "chance"]


def test_class_absent_from_y_true_gets_no_curve() -> None:
    # given: no row of class "c"
    y_true = np.array(["a", "b", "a", "b"])
    # when
    figure = roc_curve_figure(y_true, P_MULTI[:4], classes=["a", "b", "c"])
    # then
    assert [name.split(" ")[0] for name in _names(figure)] == ["a", "b", "chance"]


def test_pr_curve_reports_average_precision() -> None:
    # given / when
    figure = pr_curve_figure(Y_BINARY, P_BINARY, classes=[0, 1])
    # then: AP = (1/2)*1 + (1/2)*(2/3)
    assert _names(figure) == ["1 (AP 0.833)"]
    assert figure.layout.xaxis.title.text == "recall"


def test_multiclass_pr_curve_has_one_line_per_class() -> None:
    # given / when
    figure = pr_curve_figure(Y_MULTI, P_MULTI, classes=["a", "b", "c"])
    # then
    assert len(figure.data) == 3


def test_calibration_bins_binary_probabilities() -> None:
    # given: two bins; [0.1, 0.4, 0.35] fall in the low bin, [0.8] in the high bin
    # when
    figure = calibration_figure(Y_BINARY, P_BINARY, classes=[0, 1], n_bins=2)
    # then
    curve = figure.data[0]
    assert _names(figure) == ["1", "perfectly calibrated"]
    assert list(curve.x) == pytest.approx([(0.1 + 0.4 + 0.35) / 3, 0.8])
    assert list(curve.y) == pytest.approx([1 / 3, 1.0])


def test_calibration_per_class_when_multiclass() -> None:
    # given / when
    figure = calibration_figure(Y_MULTI, P_MULTI, classes=["a", "b", "c"], n_bins=3)
    # then
    assert _names(figure) == ["a", "b", "c", "perfectly calibrated"]


# --- regression ---------------------------------------------------------------------------


def test_residuals_are_actual_minus_predicted_against_predicted() -> None:
    # given / when
    figure = residuals_figure([3.0, 5.0, 2.0], [2.5, 5.0, 4.0])
    # then
    (points,) = figure.data
    assert list(points.x) == [2.5, 5.0, 4.0]
    assert list(points.y) == [0.5, 0.0, -2.0]
    assert figure.layout.shapes[0].y0 == 0


def test_predicted_vs_actual_has_identity_line_spanning_both() -> None:
    # given / when
    figure = predicted_vs_actual_figure([1.0, 4.0], [0.0, 6.0])
    # then
    points, identity = figure.data
    assert list(points.x) == [1.0, 4.0] and list(points.y) == [0.0, 6.0]
    assert list(identity.x) == [0.0, 6.0] and list(identity.y) == [0.0, 6.0]


# --- importance, history ------------------------------------------------------------------


def test_feature_importance_keeps_top_20_largest_on_top_with_error_bars() -> None:
    # given
    importance = pd.DataFrame(
        {
            "feature": [f"f{i}" for i in range(25)],
            "importance_mean": np.arange(25, dtype=float),
            "importance_std": np.full(25, 0.5),
        }
    )
    # when
    figure = feature_importance_figure(importance)
    # then: plotly draws the last bar at the top
    (bars,) = figure.data
    assert bars.orientation == "h"
    assert len(bars.y) == 20
    assert bars.y[-1] == "f24" and bars.y[0] == "f5"
    assert list(bars.error_x.array) == [0.5] * 20


def test_feature_importance_requires_its_columns() -> None:
    # given
    importance = pd.DataFrame({"feature": ["a"], "importance": [1.0]})
    # when / then
    with pytest.raises(PlotInputError, match=r"missing column.*importance_mean, importance_std"):
        feature_importance_figure(importance)


def test_permutation_importance_ranks_raw_columns_of_a_pipeline() -> None:
    # given: y depends on "signal" only; "shade" is a categorical column the pipeline encodes
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "noise": rng.normal(size=60),
            "signal": rng.normal(size=60),
            "shade": rng.choice(["x", "y"], size=60),
        }
    )
    y = 3 * X["signal"].to_numpy()
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("cat", OneHotEncoder(handle_unknown="ignore"), ["shade"])],
                    remainder="passthrough",
                ),
            ),
            ("reg", LinearRegression()),
        ]
    ).fit(X, y)
    # when
    table = permutation_importance_table(model, X, y, n_repeats=3, max_rows=40)
    # then
    assert list(table.columns) == ["feature", "importance_mean", "importance_std"]
    assert table["feature"].tolist()[0] == "signal"
    assert set(table["feature"]) == {"noise", "signal", "shade"}
    assert table["importance_mean"].is_monotonic_decreasing


def test_permutation_importance_is_seeded() -> None:
    # given
    X = pd.DataFrame({"a": np.arange(50.0), "b": np.sin(np.arange(50.0))})
    y = X["a"] + X["b"]
    model = LinearRegression().fit(X, y)
    # when
    first = permutation_importance_table(model, X, y, seed=3, max_rows=20)
    second = permutation_importance_table(model, X, y, seed=3, max_rows=20)
    # then
    pd.testing.assert_frame_equal(first, second)


def test_permutation_importance_drops_are_the_scores_of_the_shuffled_rows() -> None:
    # given: a classifier whose shuffled copies are predicted in one stacked batch
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)})
    y = (X["a"] > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(X, y)
    # when
    table = permutation_importance_table(model, X, y, n_repeats=2, seed=5)
    # then: each drop is the model's own score on that shuffled copy, one copy at a time
    draws = np.random.default_rng(5)
    drops = {}
    for column in ("a", "b"):
        scores = []
        for _ in range(2):
            shuffled = X.copy()
            shuffled[column] = X[column].to_numpy()[draws.permutation(30)]
            scores.append(model.score(X, y) - model.score(shuffled, y))
        drops[column] = (np.mean(scores), np.std(scores))
    got = table.set_index("feature")
    for column, (mean, std) in drops.items():
        assert got.loc[column, "importance_mean"] == pytest.approx(mean)
        assert got.loc[column, "importance_std"] == pytest.approx(std)
    assert got.loc["a", "importance_mean"] > got.loc["b", "importance_mean"]


def test_permutation_importance_rejects_mismatched_rows() -> None:
    # given
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    # when / then
    with pytest.raises(PlotInputError, match="y: has 2 rows but X has 3"):
        permutation_importance_table(LinearRegression(), X, [1.0, 2.0])


def test_history_has_one_line_per_series_over_epochs() -> None:
    # given
    history = {"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.7, 0.6]}
    # when
    figure = history_figure(history)
    # then
    assert _names(figure) == ["loss", "val_loss"]
    assert list(figure.data[0].x) == [1, 2, 3]
    assert list(figure.data[1].y) == [1.0, 0.7, 0.6]


@pytest.mark.parametrize(
    ("history", "message"),
    [({}, "no series"), ({"loss": []}, "series 'loss' is empty")],
)
def test_history_rejects_empty_input(history: dict[str, list[float]], message: str) -> None:
    # given / when / then
    with pytest.raises(PlotInputError, match=message):
        history_figure(history)


# --- evaluation sets ----------------------------------------------------------------------


def test_classification_set_with_probabilities() -> None:
    # given / when
    figures = evaluation_figures("classification", Y_MULTI, Y_MULTI, P_MULTI)
    # then: classes default to the sorted labels of y_true
    assert [name for name, _ in figures] == [
        "Confusion matrix",
        "ROC curve",
        "Precision-recall curve",
        "Calibration",
    ]
    assert figures[1][1].data[0].name.startswith("a ")


def test_classification_set_without_probabilities_is_confusion_matrix_only() -> None:
    # given / when
    figures = evaluation_figures("classification", Y_BINARY, Y_BINARY)
    # then
    assert [name for name, _ in figures] == ["Confusion matrix"]


def test_regression_set() -> None:
    # given / when
    figures = evaluation_figures("regression", [1.0, 2.0], [1.5, 2.5])
    # then
    assert [name for name, _ in figures] == ["Predicted vs actual", "Residuals"]


def test_unknown_task_is_an_input_error() -> None:
    # given / when / then
    with pytest.raises(InputError, match="task: must be 'classification' or 'regression'"):
        evaluation_figures("ranking", [1], [1])  # type: ignore[arg-type]


# --- input errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: residuals_figure([1.0, 2.0], [1.0]), "y_pred: has 1 rows but y_true has 2"),
        (lambda: residuals_figure(["a"], ["b"]), "regression values must be numbers"),
        (lambda: confusion_matrix_figure([], []), "y_true: no rows"),
        (
            lambda: roc_curve_figure(Y_MULTI, P_MULTI, classes=["a", "b"]),
            r"y_proba: shape \(6, 3\) does not match 2 classes",
        ),
        (
            lambda: pr_curve_figure(Y_BINARY, P_BINARY[:3], classes=[0, 1]),
            "y_proba: has 3 rows but y_true has 4",
        ),
        (lambda: calibration_figure(Y_BINARY, P_BINARY, [0]), "need at least two classes"),
        (lambda: calibration_figure(Y_BINARY, P_BINARY, [0, 1], n_bins=1), "n_bins"),
        (lambda: confusion_matrix_figure([0, 1], [0, 1], labels=[7]), "labels: .*y_true"),
    ],
)
def test_mismatched_inputs_raise_one_line_input_errors(call, message: str) -> None:
    # given / when / then
    with pytest.raises(PlotInputError, match=message) as caught:
        call()
    assert isinstance(caught.value, InputError)
    assert "\n" not in str(caught.value)


# --- report -------------------------------------------------------------------------------


@pytest.fixture
def report_figures() -> list[tuple[str, go.Figure]]:
    return [
        *evaluation_figures("classification", Y_BINARY, P_BINARY > 0.5, P_BINARY, [0, 1]),
        *evaluation_figures("regression", [1.0, 2.0, 3.0], [1.1, 1.9, 3.4]),
    ]


def test_report_contains_every_figure_div_and_metric(report_figures) -> None:
    # given
    metrics = {"accuracy": 0.8125, "f1_macro": 0.75, "n_rows": 4}
    # when
    page = render_report("Run report", metrics, report_figures, {"run id": "abc123"})
    # then
    for index, (name, _) in enumerate(report_figures):
        assert f'id="{figure_div_id(index, name)}"' in page
        assert f"<h2>{name}</h2>" in page
    assert '<th>accuracy</th><td class="value">0.8125</td>' in page
    assert '<th>f1_macro</th><td class="value">0.75</td>' in page
    assert '<th>n_rows</th><td class="value">4</td>' in page
    assert "<th>run id</th><td>abc123</td>" in page


def test_report_embeds_plotlyjs_once_and_loads_nothing_from_outside(report_figures) -> None:
    # given / when
    page = render_report("Run report", {}, report_figures)
    # then: one compressed bundle, unpacked in the page, and every figure drawn from JSON
    assert page.count('id="plotly-bundle"') == 1
    assert page.count("new DecompressionStream") == 1
    assert page.count('class="figure-spec"') == len(report_figures)
    assert get_plotlyjs()[:2000] not in page  # not the 4.8 MB plain bundle
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert "cdn.plot.ly" not in page
    assert "https://" not in page


def test_report_bundle_decompresses_to_the_plotly_js_of_plotly_itself(report_figures) -> None:
    # given: the figures are all cartesian (scatter, heatmap)
    import base64
    import gzip

    page = render_report("Run report", {}, report_figures)
    # when
    packed = page.split('id="plotly-bundle">', 1)[1].split("</script>", 1)[0]
    code = gzip.decompress(base64.b64decode(packed)).decode()
    # then: the cartesian bundle of the same plotly.js version, small enough for the page
    version = re.search(r"plotly\.js v(\S+)", get_plotlyjs()[:200]).group(1)  # type: ignore[union-attr]
    assert f"(cartesian - minified) v{version}" in code[:200]
    assert len(page) < 1_000_000


def test_a_report_with_a_non_cartesian_trace_embeds_the_full_bundle() -> None:
    # given
    import base64
    import gzip

    figure = go.Figure(go.Scatterpolar(r=[1, 2], theta=[0, 90]))
    # when
    page = render_report("polar", {}, [("Polar", figure)])
    # then
    packed = page.split('id="plotly-bundle">', 1)[1].split("</script>", 1)[0]
    assert gzip.decompress(base64.b64decode(packed)).decode() == get_plotlyjs()


def test_each_figure_has_one_title_its_heading() -> None:
    # given: a figure whose own layout carries a title
    figure = history_figure({"loss": [1.0, 0.5]})
    assert figure.layout.title.text
    # when
    page = render_report("r", {}, [("Training history", figure)])
    # then: the heading is the only title; the drawn figure has none
    spec = page.split('class="figure-spec"', 1)[1].split(">", 1)[1].split("</script>", 1)[0]
    assert "title" not in json.loads(spec)["layout"] or not json.loads(spec)["layout"]["title"]
    assert page.count("<h2>Training history</h2>") == 1


def test_report_escapes_html_in_user_text() -> None:
    # given
    figure = history_figure({"loss": [1.0]})
    hostile = "<script>alert(1)</script>"
    # when
    page = render_report(
        f"Run {hostile}", {f"m{hostile}": 1.0}, [(f"fig {hostile}", figure)], {"k": hostile}
    )
    # then
    assert hostile not in page
    assert "<title>Run &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert "<h2>fig &lt;script&gt;alert(1)&lt;/script&gt;</h2>" in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5  # figure JSON: \u003c


def test_report_with_no_metrics_meta_or_figures_is_still_a_page() -> None:
    # given / when
    page = render_report("Empty", {}, [])
    # then
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<p class="empty">none</p>') == 2


def test_report_rejects_non_numeric_metric() -> None:
    # given / when / then
    with pytest.raises(PlotInputError, match="metrics: value of 'accuracy' is not a number"):
        render_report("r", {"accuracy": "high"}, [])  # type: ignore[dict-item]


def test_report_shows_nan_metric_as_nan() -> None:
    # given / when
    page = render_report("r", {"auc": float("nan")}, [])
    # then
    assert '<th>auc</th><td class="value">nan</td>' in page
