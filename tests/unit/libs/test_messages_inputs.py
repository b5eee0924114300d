"""Bad-input messages say what would be right: the closest column, the task a metric fits."""

from __future__ import annotations

import pandas as pd
import pytest

from libs.datasets.checks import check_columns, missing_column_message
from libs.errors import InputError
from libs.metrics.sets import check_metric_fits


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [1, 2], "tenure": [3, 4], "Monthly": [5.0, 6.0], "churned": [0, 1]}
    )


def test_a_misspelt_target_names_the_closest_column_and_lists_them(frame: pd.DataFrame) -> None:
    with pytest.raises(InputError) as caught:
        check_columns(frame, "churn", {}, "churn.csv")
    assert str(caught.value) == (
        "data.target: column 'churn' not found in churn.csv; did you mean 'churned'? "
        "(columns: customer_id, tenure, Monthly, churned)"
    )


def test_a_declared_feature_is_matched_ignoring_case(frame: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"^features\.numeric\.columns: column 'monthly' "):
        check_columns(frame, "churned", {"numeric": ["tenure", "monthly"]})
    with pytest.raises(InputError, match="did you mean 'Monthly'"):
        check_columns(frame, "churned", {"numeric": ["monthly"]})


def test_nothing_close_lists_the_columns_without_a_guess(frame: pd.DataFrame) -> None:
    message = missing_column_message("data.target", "zzz", list(frame.columns))
    assert "did you mean" not in message
    assert message.endswith("(columns: customer_id, tenure, Monthly, churned)")


def test_a_wide_table_lists_twenty_columns_and_the_count() -> None:
    message = missing_column_message("data.target", "y", [f"c{i}" for i in range(30)])
    assert message.endswith("c19, ... (30 in all))")


def test_present_columns_pass(frame: pd.DataFrame) -> None:
    check_columns(frame, "churned", {"numeric": ["tenure"], "categorical": None})


def test_a_regression_metric_on_a_classification_task_says_which_task_it_fits() -> None:
    with pytest.raises(InputError) as caught:
        check_metric_fits("r2", "classification", "objective.metric")
    message = str(caught.value)
    assert message.startswith(
        "objective.metric: 'r2' is a regression metric and does not fit this "
        "classification task (classification metrics: accuracy, "
    )


def test_an_unknown_metric_names_the_closest_known_one() -> None:
    with pytest.raises(InputError, match="unknown metric 'acurracy'; did you mean 'accuracy'"):
        check_metric_fits("acurracy", "classification", "gate.metric")


def test_a_metric_of_the_task_fits() -> None:
    check_metric_fits("rmse", "regression", "gate.metric")


def test_a_mistyped_sweep_metric_gets_the_closest_name_of_its_task() -> None:
    from flows.config.sweep_checks import check_metric

    expected = (
        r"^s\.yaml: objective\.metric: 'acuracy' is not computed for classification; "
        r"did you mean 'accuracy'\? \(choose from accuracy"
    )
    with pytest.raises(InputError, match=expected):
        check_metric("acuracy", "objective.metric", "classification", "s.yaml")
    with pytest.raises(InputError) as far:
        check_metric("r2", "objective.metric", "classification", "s.yaml")
    assert "did you mean" not in str(far.value)  # nothing close: only the choices
    check_metric("accuracy", "objective.metric", "classification", "s.yaml")
