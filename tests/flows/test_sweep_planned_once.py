"""A sweep and a confirmation are planned once: the flow runs the plan its caller made,
with its caller's settings.

The command line and `flows.api` validate every point (`plan_sweep`) before any
run starts and hand that plan and their settings down; the sweep flow plans
again only when it runs on its own (a flow run started from the UI). For
`--confirm`, `confirmation_inputs` reads the stage back, plans its sweep and the
confirmation runs once, and hands that plan to the flow (`run_confirm`).
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
import flows.runs.sweep as sweep_flow
from flows.config.sweep import SweepConfig
from flows.config.train import TrainConfig
from libs.settings import PlatformSettings

pytestmark = pytest.mark.slow

# A half fraction of a 2^3 factorial: 4 points on a 120-row sample, nothing registered.
SWEEP: dict[str, Any] = {
    "train": {
        "data": {"source": "iris", "max_rows": 120},
        "model": {"name": "logistic_regression"},
        "tracking": {
            "experiment": "sweep-planned-once",
            "model_name": "t-sweep-planned-once",
            "register_model": False,
        },
    },
    "factors": [
        {"name": "model.params.C", "type": "continuous", "low": 0.1, "high": 10, "scale": "log"},
        {"name": "model.params.max_iter", "type": "integer", "low": 100, "high": 200},
        {"name": "model.params.fit_intercept", "type": "categorical", "levels": [True, False]},
    ],
    "design": {"kind": "fractional_factorial", "generator": "a b ab"},
    "objective": {"metric": "accuracy"},
    "cv_folds": 0,
    "concurrency": 2,
    "workers": "threads",
}


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
    """Counts of `plan_sweep` calls, `TrainConfig` validations and `PlatformSettings` builds."""
    counts: Counter[str] = Counter()
    plan_sweep = sweep_config.plan_sweep
    validate = TrainConfig.model_validate.__func__  # type: ignore[attr-defined]
    settings_init = PlatformSettings.__init__

    def counting_plan(*args: Any, **kwargs: Any) -> Any:
        counts["plan_sweep"] += 1
        return plan_sweep(*args, **kwargs)

    def counting_validate(cls: Any, *args: Any, **kwargs: Any) -> Any:
        counts["TrainConfig"] += cls is TrainConfig
        return validate(cls, *args, **kwargs)

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        counts["PlatformSettings"] += 1
        settings_init(self, *args, **kwargs)

    monkeypatch.setattr(sweep_config, "plan_sweep", counting_plan)
    for module in (sweep_flow, confirm_flow, confirm_plan):
        monkeypatch.setattr(module, "plan_sweep", counting_plan)
    monkeypatch.setattr(TrainConfig, "model_validate", classmethod(counting_validate))
    monkeypatch.setattr(PlatformSettings, "__init__", counting_init)
    yield counts


def test_a_four_point_sweep_is_planned_once_and_reads_its_settings_once(
    flow_home: Path, counted: Counter[str]
) -> None:
    # given: the sweep planned and the settings read, as the command line does
    config = SweepConfig.model_validate(SWEEP)
    settings = PlatformSettings()
    plan = sweep_config.plan_sweep(config)
    planning = Counter(counted)
    assert len(plan.jobs) == 4
    assert planning["plan_sweep"] == 1 and planning["TrainConfig"] >= 5  # the base, each point
    # when: the sweep flow runs that plan
    summary = sweep_flow.run_sweep(config, plan, settings=settings)
    # then: every point ran, and nothing was planned, validated or read again
    assert summary.completed == 4, summary
    assert counted["plan_sweep"] == 1
    assert counted["TrainConfig"] == planning["TrainConfig"]
    assert counted["PlatformSettings"] == planning["PlatformSettings"] == 1


def test_a_confirmation_is_planned_once(flow_home: Path, counted: Counter[str]) -> None:
    # given: a finished stage with a recommendation
    settings = PlatformSettings()
    stage = sweep_flow.run_sweep(SweepConfig.model_validate(STAGE), settings=settings)
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
