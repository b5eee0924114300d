"""libs.metrics: metric sets against direct sklearn.metrics calls, and bootstrap intervals."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from libs.errors import InputError
from libs.metrics import (
    METRIC_NAMES,
    bootstrap_ci,
    bootstrap_intervals,
    classification_metrics,
    compute_metrics,
    greater_is_better,
    regression_metrics,
)

# Fixed small data: binary, multiclass (string labels) and regression.
BIN_TRUE = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0])
BIN_PRED = np.array([0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
BIN_P1 = np.array([0.2, 0.9, 0.4, 0.1, 0.8, 0.6, 0.7, 0.95, 0.3, 0.05, 0.45, 0.35])
BIN_PROBA = np.column_stack([1 - BIN_P1, BIN_P1])

MC_TRUE = np.array(["a", "b", "c", "a", "b", "c", "a", "b", "c", "a"])
MC_PRED = np.array(["a", "b", "b", "a", "c", "c", "a", "b", "a", "a"])
MC_PROBA = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.5, 0.3],
        [0.6, 0.3, 0.1],
        [0.2, 0.3, 0.5],
        [0.1, 0.2, 0.7],
        [0.8, 0.1, 0.1],
        [0.3, 0.6, 0.1],
        [0.5, 0.1, 0.4],
        [0.9, 0.05, 0.05],
    ]
)

REG_TRUE = np.array([3.0, -0.5, 2.0, 7.0, 4.2, 1.1, 5.5, 2.8])
REG_PRED = np.array([2.5, 0.0, 2.1, 7.8, 3.9, 1.0, 5.0, 3.3])


def _sklearn_label_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    kw = {"zero_division": 0}
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "precision_macro": skm.precision_score(y_true, y_pred, average="macro", **kw),
        "recall_macro": skm.recall_score(y_true, y_pred, average="macro", **kw),
        "f1_macro": skm.f1_score(y_true, y_pred, average="macro", **kw),
        "precision_weighted": skm.precision_score(y_true, y_pred, average="weighted", **kw),
        "recall_weighted": skm.recall_score(y_true, y_pred, average="weighted", **kw),
        "f1_weighted": skm.f1_score(y_true, y_pred, average="weighted", **kw),
        "mcc": skm.matthews_corrcoef(y_true, y_pred),
    }


def _all_plain_floats(values: dict[str, float]) -> bool:
    return all(type(v) is float for v in values.values())


# --- point metrics ----------------------------------------------------------------------------


def test_binary_metrics_match_sklearn() -> None:
    # given
    expected = _sklearn_label_metrics(BIN_TRUE, BIN_PRED)
    expected["roc_auc"] = skm.roc_auc_score(BIN_TRUE, BIN_P1)
    expected["log_loss"] = skm.log_loss(BIN_TRUE, BIN_PROBA)
    # when
    result = classification_metrics(BIN_TRUE, BIN_PRED, BIN_PROBA)
    # then
    assert tuple(result) == METRIC_NAMES["classification"]
    assert result == pytest.approx(expected)
    assert _all_plain_floats(result)


def test_binary_positive_class_probability_alone_is_accepted() -> None:
    # given / when
    from_column = classification_metrics(BIN_TRUE, BIN_PRED, BIN_P1)
    from_matrix = classification_metrics(BIN_TRUE, BIN_PRED, BIN_PROBA)
    # then
    assert from_column == pytest.approx(from_matrix)


def test_multiclass_metrics_match_sklearn() -> None:
    # given
    expected = _sklearn_label_metrics(MC_TRUE, MC_PRED)
    expected["roc_auc"] = skm.roc_auc_score(MC_TRUE, MC_PROBA, multi_class="ovr", average="macro")
    expected["log_loss"] = skm.log_loss(MC_TRUE, MC_PROBA)
    # when
    result = classification_metrics(MC_TRUE, MC_PRED, MC_PROBA)
    # then
    assert result == pytest.approx(expected)
    assert _all_plain_floats(result)


def test_labels_give_the_order_of_proba_columns() -> None:
    # given: the same probabilities with columns in order c, a, b
    reordered = MC_PROBA[:, [2, 0, 1]]
    # when
    result = classification_metrics(MC_TRUE, MC_PRED, reordered, labels=["c", "a", "b"])
    # then
    assert result == pytest.approx(classification_metrics(MC_TRUE, MC_PRED, MC_PROBA))


def test_binary_roc_auc_uses_the_second_label_as_positive() -> None:
    # given: labels say column 1 is "no"
    y_true = np.array(["yes", "no", "no", "yes"])
    proba_no = np.array([0.1, 0.8, 0.7, 0.3])
    proba = np.column_stack([1 - proba_no, proba_no])
    # when
    result = classification_metrics(y_true, y_true, proba, labels=["yes", "no"])
    # then
    assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(y_true == "no", proba_no))
    assert result["roc_auc"] == 1.0


def test_without_proba_there_is_no_roc_auc_or_log_loss() -> None:
    # when
    result = classification_metrics(BIN_TRUE, BIN_PRED)
    # then
    assert set(result) == set(METRIC_NAMES["classification"]) - {"roc_auc", "log_loss"}


def test_never_predicted_class_scores_zero_precision_without_warning() -> None:
    # given: class 2 is never predicted
    y_true = np.array([0, 1, 2, 0])
    y_pred = np.array([0, 1, 1, 0])
    # when
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = classification_metrics(y_true, y_pred)
    # then
    assert result["precision_macro"] == pytest.approx(
        skm.precision_score(y_true, y_pred, average="macro", zero_division=0)
    )


# sklearn warns that a single label was found; that is the situation under test.
@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
def test_single_class_truth_gives_nan_roc_auc_and_finite_rest() -> None:
    # given
    y_true = np.array([1, 1, 1])
    y_pred = np.array([1, 1, 1])
    proba = np.array([[0.2, 0.8], [0.4, 0.6], [0.1, 0.9]])
    # when
    result = classification_metrics(y_true, y_pred, proba, labels=[0, 1])
    # then
    assert math.isnan(result["roc_auc"])
    assert result["accuracy"] == 1.0
    assert math.isfinite(result["log_loss"])


def test_regression_metrics_match_sklearn() -> None:
    # given
    expected = {
        "rmse": skm.root_mean_squared_error(REG_TRUE, REG_PRED),
        "mae": skm.mean_absolute_error(REG_TRUE, REG_PRED),
        "r2": skm.r2_score(REG_TRUE, REG_PRED),
        "mape": skm.mean_absolute_percentage_error(REG_TRUE, REG_PRED),
    }
    # when
    result = regression_metrics(list(REG_TRUE), REG_PRED)
    # then
    assert tuple(result) == METRIC_NAMES["regression"]
    assert result == pytest.approx(expected)
    assert _all_plain_floats(result)


def test_compute_metrics_dispatches_by_task() -> None:
    # when / then
    assert compute_metrics("regression", REG_TRUE, REG_PRED) == regression_metrics(
        REG_TRUE, REG_PRED
    )
    assert compute_metrics("classification", MC_TRUE, MC_PRED, MC_PROBA) == (
        classification_metrics(MC_TRUE, MC_PRED, MC_PROBA)
    )


# --- failure modes ----------------------------------------------------------------------------


def test_unknown_task_is_named() -> None:
    # when / then
    with pytest.raises(InputError, match="unknown task 'ranking'"):
        compute_metrics("ranking", REG_TRUE, REG_PRED)  # type: ignore[arg-type]


def test_proba_for_regression_is_refused() -> None:
    # when / then
    with pytest.raises(InputError, match="classification only"):
        compute_metrics("regression", REG_TRUE, REG_PRED, y_proba=REG_PRED)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_length_mismatch_names_the_argument(task: str) -> None:
    # when / then
    with pytest.raises(InputError, match=r"^y_pred has 7 rows but y_true has 8$"):
        compute_metrics(task, REG_TRUE, REG_PRED[:-1])  # type: ignore[arg-type]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_empty_input_is_refused(task: str) -> None:
    # when / then
    with pytest.raises(InputError, match="y_true is empty"):
        compute_metrics(task, [], [])  # type: ignore[arg-type]


def test_nan_in_regression_predictions_is_refused() -> None:
    # given
    pred = REG_PRED.copy()
    pred[2] = np.nan
    # when / then
    with pytest.raises(InputError, match="y_pred contains NaN or infinite values"):
        regression_metrics(REG_TRUE, pred)


def test_text_regression_targets_are_refused() -> None:
    # when / then
    with pytest.raises(InputError, match="y_true must be numeric"):
        regression_metrics(["a", "b"], [1.0, 2.0])


def test_proba_with_wrong_column_count_says_to_pass_labels() -> None:
    # when / then
    with pytest.raises(InputError, match="y_proba has 2 columns but there are 3 classes"):
        classification_metrics(MC_TRUE, MC_PRED, MC_PROBA[:, :2])


def test_proba_with_wrong_row_count_is_refused() -> None:
    # when / then
    with pytest.raises(InputError, match="y_proba has 11 rows but y_true has 12"):
        classification_metrics(BIN_TRUE, BIN_PRED, BIN_PROBA[:-1])


def test_class_missing_from_labels_is_refused() -> None:
    # when / then
    with pytest.raises(InputError, match=r"classes not in labels: \['c'\]"):
        classification_metrics(MC_TRUE, MC_PRED, labels=["a", "b"])


def test_duplicate_labels_are_refused() -> None:
    # when / then
    with pytest.raises(InputError, match="labels has duplicates"):
        classification_metrics(MC_TRUE, MC_PRED, labels=["a", "b", "a"])


# --- direction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accuracy", True),
        ("roc_auc", True),
        ("r2", True),
        ("mcc", True),
        ("rmse", False),
        ("mae", False),
        ("mape", False),
        ("log_loss", False),
    ],
)
def test_greater_is_better(name: str, expected: bool) -> None:
    # when / then
    assert greater_is_better(name) is expected


def test_every_known_metric_has_a_direction() -> None:
    # when / then: no known name raises
    for names in METRIC_NAMES.values():
        for name in names:
            assert isinstance(greater_is_better(name), bool)


def test_unknown_metric_is_named_with_the_known_ones() -> None:
    # when / then
    with pytest.raises(InputError, match=r"unknown metric 'auc'; known metrics: .*roc_auc"):
        greater_is_better("auc")


# --- bootstrap --------------------------------------------------------------------------------


def test_bootstrap_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    # given
    n_boot, alpha = 60, 0.1
    # when
    first = bootstrap_ci("f1_macro", MC_TRUE, MC_PRED, n_boot=n_boot, alpha=alpha, seed=3)
    again = bootstrap_ci("f1_macro", MC_TRUE, MC_PRED, n_boot=n_boot, alpha=alpha, seed=3)
    other = bootstrap_ci("f1_macro", MC_TRUE, MC_PRED, n_boot=n_boot, alpha=alpha, seed=4)
    # then
    assert first == again
    assert first != other
    assert all(type(v) is float for v in first)


@pytest.mark.parametrize(
    ("metric", "task", "y_true", "y_pred", "y_proba"),
    [
        ("accuracy", "classification", BIN_TRUE, BIN_PRED, None),
        ("roc_auc", "classification", BIN_TRUE, BIN_PRED, BIN_PROBA),
        ("log_loss", "classification", MC_TRUE, MC_PRED, MC_PROBA),
        ("rmse", "regression", REG_TRUE, REG_PRED, None),
        ("r2", "regression", REG_TRUE, REG_PRED, None),
    ],
)
def test_interval_contains_the_point_estimate(
    metric: str, task: str, y_true: np.ndarray, y_pred: np.ndarray, y_proba: np.ndarray | None
) -> None:
    # given
    point = compute_metrics(task, y_true, y_pred, y_proba)[metric]  # type: ignore[arg-type]
    # when
    low, high = bootstrap_ci(metric, y_true, y_pred, y_proba, n_boot=200, seed=0)
    # then
    assert low <= point <= high
    assert low < high


def test_wider_confidence_gives_a_wider_interval() -> None:
    # when
    narrow = bootstrap_ci("mae", REG_TRUE, REG_PRED, n_boot=100, alpha=0.5)
    wide = bootstrap_ci("mae", REG_TRUE, REG_PRED, n_boot=100, alpha=0.05)
    # then
    assert wide[0] <= narrow[0] and narrow[1] <= wide[1]


def test_resamples_with_one_class_are_skipped_for_roc_auc() -> None:
    # given: four rows, one positive; many resamples miss it, where roc_auc is undefined
    y_true = np.array([0, 0, 0, 1])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    # when
    low, high = bootstrap_ci("roc_auc", y_true, y_true, proba, n_boot=50, seed=1)
    # then
    assert math.isfinite(low) and math.isfinite(high)
    assert 0.0 <= low <= high <= 1.0


def test_metric_undefined_on_every_resample_is_an_input_error() -> None:
    # given
    y_true = np.array([1, 1, 1])
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    # when / then
    with pytest.raises(InputError, match="'roc_auc' is undefined on every bootstrap resample"):
        bootstrap_ci("roc_auc", y_true, y_true, proba, n_boot=10, labels=[0, 1])


def test_callable_metric_is_resampled() -> None:
    # given
    def hit_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(y_true == y_pred))

    # when
    from_callable = bootstrap_ci(hit_rate, BIN_TRUE, BIN_PRED, n_boot=50, seed=7)
    by_name = bootstrap_ci("accuracy", BIN_TRUE, BIN_PRED, n_boot=50, seed=7)
    # then: same resamples, same metric
    assert from_callable == pytest.approx(by_name)


def test_callable_metric_gets_proba_when_given() -> None:
    # given
    def mean_positive_proba(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray) -> float:
        return float(proba[:, 1].mean())

    # when
    low, high = bootstrap_ci(mean_positive_proba, BIN_TRUE, BIN_PRED, BIN_PROBA, n_boot=50)
    # then
    assert low <= BIN_P1.mean() <= high


def test_bootstrap_intervals_cover_the_metric_set_and_match_single_calls() -> None:
    # when
    intervals = bootstrap_intervals("classification", BIN_TRUE, BIN_PRED, BIN_PROBA, n_boot=40)
    single = bootstrap_ci("mcc", BIN_TRUE, BIN_PRED, BIN_PROBA, n_boot=40)
    # then
    assert tuple(intervals) == METRIC_NAMES["classification"]
    assert intervals["mcc"] == single
    assert all(low <= high for low, high in intervals.values())


def test_bootstrap_intervals_for_regression() -> None:
    # when
    intervals = bootstrap_intervals("regression", REG_TRUE, REG_PRED, n_boot=40, seed=2)
    # then
    assert tuple(intervals) == METRIC_NAMES["regression"]
    point = regression_metrics(REG_TRUE, REG_PRED)
    assert intervals["rmse"][0] <= point["rmse"] <= intervals["rmse"][1]


def test_bootstrap_intervals_report_nan_for_an_undefined_metric() -> None:
    # given
    y_true = np.array([1, 1, 1])
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    # when
    intervals = bootstrap_intervals(
        "classification", y_true, y_true, proba, n_boot=10, labels=[0, 1]
    )
    # then
    assert all(math.isnan(v) for v in intervals["roc_auc"])
    assert intervals["accuracy"] == (1.0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_boot": 0}, "n_boot must be a positive integer"),
        ({"n_boot": 2.5}, "n_boot must be a positive integer"),
        ({"alpha": 0.0}, "alpha must be between 0 and 1"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
    ],
)
def test_bootstrap_parameters_are_checked(kwargs: dict[str, float], message: str) -> None:
    # when / then
    with pytest.raises(InputError, match=message):
        bootstrap_ci("accuracy", BIN_TRUE, BIN_PRED, **kwargs)  # type: ignore[arg-type]


def test_bootstrap_metric_of_the_wrong_task_is_refused() -> None:
    # when / then
    with pytest.raises(InputError, match="'rmse' is a regression metric, not classification"):
        bootstrap_ci("rmse", REG_TRUE, REG_PRED, task="classification")


def test_bootstrap_probability_metric_needs_proba() -> None:
    # when / then
    with pytest.raises(InputError, match="'log_loss' needs y_proba"):
        bootstrap_ci("log_loss", BIN_TRUE, BIN_PRED)


# --- layering ---------------------------------------------------------------------------------


def test_importing_libs_metrics_loads_neither_prefect_nor_mlflow() -> None:
    # given: a fresh interpreter, so modules loaded by other tests do not count
    code = (
        "import sys, libs.metrics; "
        "print(sorted(m for m in ('prefect', 'mlflow') if m in sys.modules))"
    )
    # when
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    # then
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("n_classes", "n_rows"), [(2, 60), (3, 40), (5, 25)])
def test_vectorised_bootstrap_equals_scikit_learn_on_every_resample(n_classes, n_rows) -> None:
    # given: predictions with errors, and classes a small resample can miss
    import libs.metrics.bootstrap as boot
    import libs.metrics.classification as cls

    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, n_rows)
    proba = rng.dirichlet(np.ones(n_classes), n_rows)
    pred = proba.argmax(axis=1)
    true, pred, proba, classes = cls.prepare(y, pred, proba, list(range(n_classes)))
    # when
    fast = boot._classification_values(true, pred, proba, classes, boot._weights(n_rows, 25, 7))
    # then: each resample's value is scikit-learn's on the resampled rows (NaN where undefined)
    for b, idx in enumerate(boot._resamples(n_rows, 25, 7)):
        for name, metric in cls.FUNCTIONS.items():
            slow = boot._safe(metric, true[idx], pred[idx], proba[idx], classes)
            assert fast[name][b] == pytest.approx(slow, abs=1e-9, nan_ok=True), (name, b)


def test_vectorised_regression_bootstrap_equals_scikit_learn() -> None:
    # given: a response far from zero (the sums of squares must not cancel)
    import libs.metrics.bootstrap as boot
    import libs.metrics.regression as reg

    rng = np.random.default_rng(3)
    y = rng.normal(1e6, 2.0, 50)
    pred = y + rng.normal(0.0, 1.0, 50)
    # when
    fast = boot._regression_values(y, pred, boot._weights(50, 20, 1))
    # then
    for b, idx in enumerate(boot._resamples(50, 20, 1)):
        for name, metric in reg.FUNCTIONS.items():
            assert fast[name][b] == pytest.approx(metric(y[idx], pred[idx]), rel=1e-7), name
