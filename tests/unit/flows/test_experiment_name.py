"""Experiment names are validated like other names: they become artifact folders."""

from __future__ import annotations

import pytest

from flows.config.predict import PredictConfig
from flows.config.train import load_train_config
from libs.errors import InputError


@pytest.mark.parametrize("name", ["..", "a/../b", "a/b", "..\\x", "", "  ", "x\x01y"])
def test_bad_experiment_names_fail_with_one_line_naming_the_field(name: str) -> None:
    with pytest.raises(InputError) as caught:
        load_train_config(None, [f"tracking.experiment={name}"])
    message = str(caught.value)
    assert "tracking.experiment" in message and "\n" not in message.replace("\\n", "")


@pytest.mark.parametrize("name", ["training", "my experiment", "faults-2.1", "a.b"])
def test_ordinary_experiment_names_pass(name: str) -> None:
    assert load_train_config(None, [f"tracking.experiment={name}"]).tracking.experiment == name


def test_batch_scoring_experiment_is_checked_too() -> None:
    with pytest.raises(ValueError, match="experiment"):
        PredictConfig(model="m", input="a.csv", output="b.csv", experiment="..")
