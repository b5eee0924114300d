"""A confirmation's plan: a stage's recommendation and one training config per run.

No Prefect, no MLflow: `flows.runs.confirm` trains what is planned here.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from flows.config.sweep import SweepConfig, SweepPlan, plan_sweep
from flows.config.train import TrainConfig
from libs.config import format_validation_error, set_dotted
from libs.doe.holdout import HoldoutPrediction, holdout_interval, metric_bounds
from libs.doe.recommend import Recommendation
from libs.errors import InputError
from libs.studies import setting_key
from libs.study_recommendation import stage_recommendation

# Confirmation runs' training seeds start here (base seed + offset + i): distinct from the
# replicate seeds of the study (base seed + replicate number), so no run is repeated.
SEED_OFFSET = 1000
DEFAULT_RUNS = 3


@dataclass(frozen=True)
class ConfirmPlan:
    """What a confirmation trains: the recommendation and one training config per run."""

    sweep_id: str
    metric: str
    maximize: bool
    recommendation: Recommendation
    configs: list[TrainConfig]
    plan: SweepPlan
    # the interval a confirmation run's TEST-split score is checked against (None: the study
    # did not cross-validate, and the recommendation's own interval is used)
    test: HoldoutPrediction | None = None

    @property
    def checked(self) -> Recommendation:
        """The recommendation with the interval the confirmation runs are checked against."""
        if self.test is None:
            return self.recommendation
        return replace(self.recommendation, interval=self.test.interval)


def _at_setting(plan: SweepPlan, settings: Mapping[str, Any], used: list[int]) -> list[int]:
    """The runs (of `used`) trained at exactly this setting (coded values within 1e-6)."""
    space = plan.config.space
    try:
        target = space.encode(dict(settings))
    except (InputError, KeyError, ValueError):
        return []
    coded = plan.design.coded
    names = [n for n in coded.columns if n in target]
    want = np.array([float(target[n]) for n in names])
    rows = coded[names].to_numpy(dtype=float)
    return [i for i in used if np.all(np.abs(rows[i] - want) < 1e-6)]


def test_prediction(
    plan: SweepPlan,
    recommendation: Recommendation,
    responses: Mapping[int, float],
    spreads: Mapping[int, float],
) -> HoldoutPrediction | None:
    """The 95% prediction interval for one confirmation run's test-split score
    (`libs.doe.holdout`): the holdout noise pooled from the fold spread of the runs at the
    recommended setting, else of every run; None without cross-validation."""
    test_fraction = float(plan.base.split.test_size)
    used = sorted(
        i
        for i, v in spreads.items()
        if i < len(plan.design) and math.isfinite(v) and i in responses
    )
    if not plan.folds or not used:
        return None
    here = _at_setting(plan, recommendation.settings, used)
    groups: dict[str, list[float]] = {}
    for i in used:
        groups.setdefault(setting_key(plan.design.points[i]), []).append(float(responses[i]))
    means = [sum(v) / len(v) for v in groups.values()]
    try:
        return holdout_interval(
            recommendation,
            [spreads[i] for i in (here or used)],
            folds=plan.folds,
            test_fraction=test_fraction,
            means=means,
            bounds=metric_bounds(plan.config.objective.metric),
        )
    except InputError:
        return None


def plan_confirmation(
    config: SweepConfig,
    responses: Mapping[int, float],
    runs: int,
    argument: str = "--confirm",
    spreads: Mapping[int, float] | None = None,
    plan: SweepPlan | None = None,
) -> ConfirmPlan:
    """The recommendation of a finished stage and the N training configs that confirm it.

    `plan` is the caller's `plan_sweep(config)`, planned here when not given.

    Raises InputError (one line) when the stage has no recommendation or the
    setting does not make a valid training config.
    """
    if runs < 1:
        raise InputError(f"--runs: at least 1 confirmation run, got {runs}")
    plan = plan or plan_sweep(config, argument)
    sweep = plan.digest[:12]
    recommendation, why = stage_recommendation(
        plan.design, config.space, responses, config.objective.maximize
    )
    if recommendation is None:
        raise InputError(f"{argument}: sweep {sweep} has no recommendation ({why})")
    configs = [
        recommended_config(
            plan, recommendation.settings, plan.base.split.model_seed + SEED_OFFSET + i
        )
        for i in range(runs)
    ]
    return ConfirmPlan(
        sweep_id=plan.digest,
        metric=config.objective.metric,
        maximize=config.objective.maximize,
        recommendation=recommendation,
        configs=configs,
        plan=plan,
        test=test_prediction(plan, recommendation, responses, spreads) if spreads else None,
    )


def recommended_config(
    plan: SweepPlan, settings: Mapping[str, Any], train_seed: int
) -> TrainConfig:
    """The base config with the recommended setting exactly as given (nothing rounded or
    clipped here), the study's split and its own training seed.

    Not cross-validated: a confirmation run is judged on its test-split score alone, so
    folds would only add k fits a run (the stage's fold spread sets its interval)."""
    data: dict[str, Any] = copy.deepcopy(plan.base.model_dump(mode="json"))
    for name, value in settings.items():
        data = set_dotted(data, name, value)
    data = set_dotted(data, "split.cv_folds", 0)
    data = set_dotted(data, "split.train_seed", train_seed)
    data = set_dotted(data, "tracking.register_model", False)  # the gate comes after
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            format_validation_error(exc, "--confirm: recommendation", TrainConfig)
        ) from None


__all__ = [
    "DEFAULT_RUNS",
    "SEED_OFFSET",
    "ConfirmPlan",
    "plan_confirmation",
    "recommended_config",
    "test_prediction",
]
