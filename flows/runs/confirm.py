"""`--confirm`: train a stage's recommendation N times and check it against its interval.

    python -m flows.sweep --confirm SWEEP [--runs N]

The stage is read back from MLflow and re-analysed (no retraining); its
recommendation names every factor, and exactly that setting is trained N
times on the study's split, each with its own training seed. Each run is
scored on the test split (untouched by the study, whose response was
cross-validated on the training split) and checked against the 95%
prediction interval; the run with the median score goes through the
registry gate, registered only when it would beat the champion. This is the
usual way a study's model is registered.
"""

from __future__ import annotations

import contextvars
import copy
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from prefect import flow
from pydantic import ValidationError

from flows.config.sweep import SweepConfig, SweepPlan, plan_sweep
from flows.config.train import TrainConfig
from flows.runs.sweep_points import error_line
from flows.runs.train import training_flow
from libs.config import format_validation_error, set_dotted
from libs.doe.holdout import HoldoutPrediction, holdout_interval, metric_bounds
from libs.doe.names import Namer
from libs.doe.recommend import Recommendation, confirmation_verdict
from libs.errors import InputError
from libs.metrics.sets import task_of
from libs.settings import PlatformSettings
from libs.studies import setting_key
from libs.study_recommendation import stage_recommendation
from libs.study_results import ConfirmationResult, ConfirmationRun
from tasks import sweep as st
from tasks.register import register_model
from tasks.sweep_records import find_sweep

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
) -> ConfirmPlan:
    """The recommendation of a finished stage and the N training configs that confirm it.

    Raises InputError (one line) when the stage has no recommendation or the
    setting does not make a valid training config.
    """
    if runs < 1:
        raise InputError(f"--runs: at least 1 confirmation run, got {runs}")
    plan = plan_sweep(config, argument)
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


def confirmation_inputs(
    settings: PlatformSettings, ref: str, runs: int
) -> tuple[SweepConfig, dict[int, float], str]:
    """A finished stage's config and responses, read back from MLflow, with the confirmation
    checked (one InputError line) before any run starts."""
    from flows.config.stages import earlier_config

    earlier = find_sweep(settings, ref, "--confirm")
    config = earlier_config(earlier, "--confirm")
    responses = earlier.responses(plan_sweep(config, "--confirm").response(config.objective.metric))
    plan_confirmation(config, responses, runs)
    return config, responses, earlier.run_id


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


def _median_run(runs: list[tuple[ConfirmationRun, Any]]) -> tuple[ConfirmationRun, Any] | None:
    done = sorted(
        (r for r in runs if r[0].value is not None), key=lambda r: float(r[0].value or 0.0)
    )
    return done[(len(done) - 1) // 2] if done else None


def _fold_spreads(settings: PlatformSettings, config: SweepConfig) -> dict[int, float]:
    """Each run's fold-to-fold standard deviation of the response, read from the stage."""
    plan = plan_sweep(config, "--confirm")
    if not plan.folds:
        return {}
    name = f"{plan.response(config.objective.metric)}.std"
    try:
        return find_sweep(settings, plan.digest, "--confirm").responses(name)
    except InputError:
        return {}


@flow(name="doe-confirm", version="1")
def confirm(
    config: SweepConfig,
    responses: dict[int, float],
    runs: int = DEFAULT_RUNS,
    gated: bool = True,
    parent_run_id: str | None = None,
    spreads: dict[int, float] | None = None,
    settings: PlatformSettings | None = None,
) -> ConfirmationResult:
    """Train a stage's recommendation `runs` times (own training seeds, the study's split),
    score each on the test split against the 95% prediction interval for a test-split score
    (`spreads`: each run's `cv.<metric>.std`; read from the stage when not given), gate the
    median run. `settings` are the caller's, handed to every run (built here when not given)."""
    settings = settings or PlatformSettings()

    # 1. Plan: the recommendation, the interval for a test-split score, one config per run
    if spreads is None:
        spreads = _fold_spreads(settings, config)
    planned = plan_confirmation(config, responses, runs, spreads=spreads)
    rec, metric = planned.checked, planned.metric
    low, high = rec.interval
    base = planned.plan.base

    # 2. Runs: full training runs (model, report), each tagged as this stage's confirmation,
    # as many at once as the study's points ran
    def one_run(train: TrainConfig) -> tuple[ConfirmationRun, Any]:
        seed = train.split.model_seed
        try:
            summary = training_flow(train.model.framework)(train, settings=settings)
        except Exception as exc:
            line = error_line(exc, 500)
            return ConfirmationRun(seed, None, None, "", line), None
        value = summary.metrics.get(metric)
        within = None if value is None else bool(low <= value <= high)
        st.tag_run(
            settings,
            summary.run_id,
            {
                "sweep.confirms": planned.sweep_id,
                "confirm.inside": str(within),
                # the setting as the MLflow UI's runs table shows a sweep point's
                "sweep.setting": Namer.of(config.space).point(rec.settings)[:5000],
            },
        )
        return ConfirmationRun(seed, value, within, summary.run_id), summary

    at_once = max(1, min(planned.plan.concurrency, len(planned.configs)))
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="confirm") as pool:
        # each run a sub-flow of this flow run: its thread gets this context
        futures = [
            pool.submit(contextvars.copy_context().run, one_run, train) for train in planned.configs
        ]
        done: list[tuple[ConfirmationRun, Any]] = [f.result() for f in futures]
    scores = [r.value for r, _ in done if r.value is not None]
    of = "a test-split score" if planned.test else ""
    inside, _, verdict = confirmation_verdict(rec, scores, of)
    if parent_run_id:  # the stage's run records its confirmation
        st.log_confirmation(
            settings,
            parent_run_id,
            metric=metric,
            predicted=rec.predicted,
            interval=(low, high),
            scores=scores,
            inside=inside,
            verdict=verdict,
        )

    # 3. The median run's model through the gate, registered only when it beats the champion
    chosen = _median_run(done)
    registration, reason = None, "no confirmation run finished"
    if chosen is not None and not gated:
        reason = "registration disabled"
    elif chosen is not None:
        summary = chosen[1]
        task_type = planned.plan.task or task_of(metric)
        decision = st.gate_check(
            settings,
            summary.run_id,
            name=base.registered_model_name,
            gate=base.gate,
            task_type=task_type,
            metrics=summary.metrics,
        )
        reason = "" if decision is None else f"not registered: {decision.reason}"
        if decision is None or decision.promote:
            registration = register_model(
                st.child_run(settings, summary.run_id),
                name=base.registered_model_name,
                model_uri=summary.model_uri,
                gate=base.gate,
                task_type=task_type,
                metrics=summary.metrics,
                tags={
                    "config_digest": planned.configs[done.index(chosen)].digest(),
                    "sweep.id": planned.sweep_id,
                    "sweep.confirmed": verdict.rsplit(":", 1)[-1].strip().rstrip("."),
                },
                settings=settings,
            )
            reason = registration.reason
    return ConfirmationResult(
        sweep_id=planned.sweep_id,
        metric=metric,
        settings=dict(rec.settings),
        predicted=rec.predicted,
        interval=(low, high),
        cv_interval=planned.recommendation.interval,
        interval_reason=planned.test.reason if planned.test else "",
        runs=[r for r, _ in done],
        inside=inside,
        verdict=verdict,
        model_name=registration.name if registration else base.registered_model_name,
        version=registration.version if registration else None,
        champion=bool(registration and registration.promoted),
        gate_reason=reason,
        run_id=chosen[0].run_id if chosen else None,
        notes=[f"{k}: {why}" for k, why in rec.held.items()],
        space=config.space,
    )


__all__ = [
    "DEFAULT_RUNS",
    "ConfirmPlan",
    "confirm",
    "confirmation_inputs",
    "plan_confirmation",
    "recommended_config",
]
