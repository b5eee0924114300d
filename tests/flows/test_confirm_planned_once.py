"""A confirmation is planned once: the flow runs the plan its caller made from the stage.

`confirmation_inputs` (what `python -m flows.sweep --confirm` and `flows.api.confirm`
call) reads the stage back, plans its sweep and the confirmation runs once, and
hands that plan to the flow (`run_confirm`), which plans nothing again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flows.config.confirm_plan as confirm_plan
import flows.config.sweep as sweep_config
import flows.runs.confirm as confirm_flow
from flows.config.sweep import SweepConfig
from flows.config.train import TrainConfig
from flows.runs.sweep import run_sweep
from libs.settings import PlatformSettings

pytestmark = pytest.mark.slow

# A 2^2 factorial with 2 centre points (6 runs, 2-fold cross-validation) on 200 rows: it
# has a recommendation to confirm; one confirmation run, nothing registered.
STAGE: dict[str, Any] = {
    "train": {
        "data": {"source": "breast_cancer", "max_rows": 200},
        "model": {"name": "logistic_regression"},
        "tracking": {
            "experiment": "confirm-planned-once",
            "model_name": "t-confirm-planned-once",
            "register_model": False,
        },
    },
    "factors": [
        {
            "name": "model.params.C",
            "type": "continuous",
            "low": 0.001,
            "high": 0.01,
            "scale": "log",
        },
        {
            "name": "model.params.tol",
            "type": "continuous",
            "low": 1e-4,
            "high": 1e-3,
            "scale": "log",
        },
    ],
    "design": {"kind": "full_factorial", "center_points": 2},
    "objective": {"metric": "log_loss"},
    "cv_folds": 2,
    "concurrency": 2,
    "workers": "threads",
    "register_best": False,
}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts of `plan_sweep` calls and `TrainConfig` validations."""
    counts: Counter[str] = Counter()
    plan_sweep = sweep_config.plan_sweep
    validate = TrainConfig.model_validate.__func__  # type: ignore[attr-defined]

    def counting_plan(*args: Any, **kwargs: Any) -> Any:
        counts["plan_sweep"] += 1
        return plan_sweep(*args, **kwargs)

    def counting_validate(cls: Any, *args: Any, **kwargs: Any) -> Any:
        counts["TrainConfig"] += cls is TrainConfig
        return validate(cls, *args, **kwargs)

    monkeypatch.setattr(confirm_flow, "plan_sweep", counting_plan)
    monkeypatch.setattr(confirm_plan, "plan_sweep", counting_plan)
    monkeypatch.setattr(TrainConfig, "model_validate", classmethod(counting_validate))
    yield counts


def test_a_confirmation_is_planned_once(flow_home: Path, counted: Counter[str]) -> None:
    # given: a finished stage with a recommendation
    settings = PlatformSettings()
    stage = run_sweep(SweepConfig.model_validate(STAGE), settings=settings)
    assert stage.recommendation is not None, stage
    counted.clear()
    # when: the confirmation is planned from the stage, as the command line does
    planned, responses, parent = confirm_flow.confirmation_inputs(settings, stage.sweep_id, 1)
    planning = Counter(counted)
    # then: its sweep planned once (the base, six points) and one run's config validated
    assert planning["plan_sweep"] == 1
    # when: the flow runs that plan
    result = confirm_flow.run_confirm(planned, responses, False, parent, settings=settings)
    # then: the run trained, and nothing was planned or validated again
    assert [r.value is not None for r in result.runs] == [True], result
    assert counted["plan_sweep"] == 1
    assert counted["TrainConfig"] == planning["TrainConfig"]
