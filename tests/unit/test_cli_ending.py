"""What every command shares at its end (summary block, progress bar) and the flow table."""

from __future__ import annotations

import pytest

from flows.cli import print_summary
from flows.train_flow import TRAINING_FLOWS, training_flow
from libs.errors import InputError
from libs.models.spec import SklearnModelSpec, TensorflowModelSpec
from libs.progress import progress_bar


def test_the_summary_block_aligns_labelled_rows_and_keeps_plain_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # when
    print_summary("Done.", [("MLflow run", "abc"), ("Registered model", "m version 1"), "as is"])
    # then
    assert capsys.readouterr().out.splitlines() == [
        "",
        "Done.",
        "  MLflow run:       abc",
        "  Registered model: m version 1",
        "  as is",
    ]


def test_each_framework_has_one_training_flow_and_an_unknown_one_fails_naming_the_field() -> None:
    # given: the frameworks a config can name
    frameworks = {SklearnModelSpec().framework, TensorflowModelSpec().framework}
    # then
    assert set(TRAINING_FLOWS) == frameworks
    for framework in frameworks:
        assert training_flow(framework).name == f"train-{framework}"
    with pytest.raises(InputError, match=r"model\.framework"):
        training_flow("xgboost")


def test_the_progress_bar_counts_steps_and_named_fields(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    with progress_bar("points", 3, fields="failed: {task.fields[failed]}") as advance:
        advance()
        advance(2, failed=1)
    with progress_bar("rows", 5, enabled=False) as quiet:
        quiet(5)
    # then
    err = capsys.readouterr().err
    assert "points" in err and "3/3" in err and "failed: 1" in err
    assert "rows" not in err
