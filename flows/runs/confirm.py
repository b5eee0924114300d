"""`--confirm`: train a stage's recommendation N times and check it against its interval.

    python -m flows.sweep --confirm SWEEP [--runs N]

The stage is read back from MLflow and re-analysed (no retraining); its
recommendation names every factor, and exactly that setting is trained N
times on the study's split, each with its own training seed. Each run is
scored on the test split (untouched by the study, whose response was
cross-validated on the training split) and checked against the 95%
prediction interval; the run with the median score goes through the
registry gate, registered only when it would beat the champion. This is the
usual way a study's model is registered. The runs are lean (fit, test-split
score, metrics); only the median run is completed with its model, report and
summary, as a sweep completes its best point.
"""

from __future__ import annotations

import contextvars
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import flow

from flows.config.confirm_plan import (
    DEFAULT_RUNS,
    ConfirmPlan,
    plan_confirmation,
    recommended_config,
)
from flows.config.sweep import SweepConfig, plan_sweep
from flows.config.train import TrainConfig
from flows.runs.point_training import error_line
from flows.runs.train import training_flow
from libs.doe.names import Namer
from libs.doe.recommend import confirmation_verdict
from libs.errors import InputError
from libs.metrics.sets import task_of
from libs.settings import PlatformSettings
from libs.study_results import ConfirmationResult, ConfirmationRun
from tasks import sweep as st
from tasks.caching import clear_shared
from tasks.register import register_model
from tasks.report import RunSummary, publish_summary
from tasks.sweep_records import find_sweep


def confirmation_inputs(
    settings: PlatformSettings, ref: str, runs: int
) -> tuple[ConfirmPlan, dict[int, float], str]:
    """A finished stage read back from MLflow once (config, responses, fold spreads) and its
    confirmation planned from it (one InputError line) before any run starts: the plan,
    the responses and the stage's run id, which `run_confirm` runs without planning again."""
    from flows.config.stages import earlier_config

    earlier = find_sweep(settings, ref, "--confirm")
    config = earlier_config(earlier, "--confirm")
    plan = plan_sweep(config, "--confirm")
    response = plan.response(config.objective.metric)
    responses = earlier.responses(response)
    spreads = earlier.responses(f"{response}.std") if plan.folds else {}
    planned = plan_confirmation(config, responses, runs, spreads=spreads, plan=plan)
    return planned, responses, earlier.run_id


# The plan `run_confirm` was handed: not a flow parameter (no data for the UI to show).
_given: contextvars.ContextVar[ConfirmPlan | None] = contextvars.ContextVar(
    "confirm_plan", default=None
)


def run_confirm(
    planned: ConfirmPlan,
    responses: dict[int, float],
    gated: bool = True,
    parent_run_id: str | None = None,
    settings: PlatformSettings | None = None,
) -> ConfirmationResult:
    """The confirm flow on the caller's plan (`confirmation_inputs`), not planned again."""
    token = _given.set(planned)
    try:
        config, runs = planned.plan.config, len(planned.configs)
        return confirm(config, responses, runs, gated, parent_run_id, settings=settings)
    finally:
        _given.reset(token)


def _median_run(runs: list[tuple[ConfirmationRun, Any]]) -> tuple[ConfirmationRun, Any] | None:
    done = sorted(
        (r for r in runs if r[0].value is not None), key=lambda r: float(r[0].value or 0.0)
    )
    return done[(len(done) - 1) // 2] if done else None


def _complete(
    planned: ConfirmPlan,
    chosen: tuple[ConfirmationRun, Any],
    done: list[tuple[ConfirmationRun, Any]],
    settings: PlatformSettings,
) -> tuple[RunSummary | None, str]:
    """Log the model and report into the median run (its fit comes from the cache), as a
    sweep completes its best point; returns its summary, or None and an error line."""
    train = planned.configs[done.index(chosen)]
    try:
        completed = training_flow(train.model.framework)(
            train, complete_run_id=chosen[0].run_id, settings=settings
        )
    except Exception as exc:
        return None, f"the median run's model was not logged: {error_line(exc, 460)}"
    return completed, ""


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
    """Train a stage's recommendation `runs` times (own training seeds, the study's split;
    lean runs, the median one completed with its model and report), score each on the test
    split against the 95% prediction interval for a test-split score
    (`spreads`: each run's `cv.<metric>.std`; read from the stage when not given), gate the
    median run. `settings` are the caller's, handed to every run (built here when not given)."""
    settings = settings or PlatformSettings()

    # 1. Plan: the recommendation, the interval for a test-split score, one config per run
    given = _given.get()  # the caller's plan (`run_confirm`); planned here on its own
    if given is not None and given.plan.config == config and len(given.configs) == runs:
        planned = given
    else:
        if spreads is None:
            spreads = _fold_spreads(settings, config)
        planned = plan_confirmation(config, responses, runs, spreads=spreads)
    rec, metric = planned.checked, planned.metric
    low, high = rec.interval
    base = planned.plan.base

    # 2. Runs: lean training runs (fit, test-split score, metrics), each tagged as this
    # stage's confirmation, as many at once as the study's points ran
    def one_run(train: TrainConfig) -> tuple[ConfirmationRun, Any]:
        seed = train.split.model_seed
        try:
            summary = training_flow(train.model.framework)(train, settings=settings, lean=True)
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
    clear_shared()  # the lean runs' shared data and features: a next confirmation reads afresh
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

    # 3. The median run completed (model, report) and through the gate, registered only
    # when it beats the champion
    chosen = _median_run(done)
    registration, reason = None, "no confirmation run finished"
    digest = planned.configs[done.index(chosen)].digest() if chosen else ""
    completed, reason = _complete(planned, chosen, done, settings) if chosen else (None, reason)
    if completed is not None and not gated:
        reason = "registration disabled"
    elif completed is not None:
        task_type = planned.plan.task or task_of(metric)
        decision = st.gate_check(
            settings,
            completed.run_id,
            name=base.registered_model_name,
            gate=base.gate,
            task_type=task_type,
            metrics=completed.metrics,
        )
        reason = "" if decision is None else f"not registered: {decision.reason}"
        if decision is None or decision.promote:
            registration = register_model(
                st.child_run(settings, completed.run_id),
                name=base.registered_model_name,
                model_uri=completed.model_uri,
                gate=base.gate,
                task_type=task_type,
                metrics=completed.metrics,
                tags={
                    "config_digest": digest,
                    "sweep.id": planned.sweep_id,
                    "sweep.confirmed": verdict.rsplit(":", 1)[-1].strip().rstrip("."),
                },
                settings=settings,
            )
            reason = registration.reason
    if completed is not None:  # the Prefect UI's summary of the confirmed model
        publish_summary(
            dataclasses.replace(
                completed,
                gate_reason=reason,
                version=registration.version if registration else None,
                champion=bool(registration and registration.promoted),
            )
        )
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
    "run_confirm",
]
