"""The DOE sweep flow: every design point as a training sub-flow run, then the analysis.

`python -m flows.sweep` is the command line around it; this module is the
flow itself (a deployment entrypoint: `flows/runs/sweep.py:sweep`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any, Literal

from prefect import flow, unmapped
from prefect.futures import as_completed

from flows.config.stages import ARGUMENT
from flows.config.stages import next_stage as plan_next_stage
from flows.config.sweep import (
    PointJob,
    SweepConfig,
    SweepPlan,
    load_sweep_config,
    plan_sweep,
)
from flows.config.sweep_schema import natural_goal
from flows.runs.sweep_points import error_line, run_point
from flows.runs.train import training_flow
from libs.doe.names import factor_params
from libs.doe.stages import next_step_hint
from libs.doe.sweep import PointResult
from libs.doe.sweep import results_table as point_table
from libs.errors import InputError
from libs.settings import PlatformSettings, check_environment
from libs.studies import best_setting, response_view, with_seeds
from libs.study_results import StageSummary, confirm_command, stage_markdown
from tasks import sweep as st
from tasks import tracking
from tasks.artifacts import SweepBoard
from tasks.caching import clear_shared
from tasks.register import register_model
from tasks.report import publish_report
from tasks.storage import open_storage
from tasks.sweep_records import find_sweep

ProgressCallback = Callable[[Any], None]
_listeners: list[ProgressCallback] = []
_listeners_lock = threading.Lock()


@contextlib.contextmanager
def on_point_done(callback: ProgressCallback) -> Iterator[None]:
    """Call `callback(PointResult)` as each point of a sweep in this process finishes."""
    with _listeners_lock:
        _listeners.append(callback)
    try:
        yield
    finally:
        with _listeners_lock:
            _listeners.remove(callback)


def sweep_params(plan: SweepPlan) -> dict[str, str]:
    """MLflow parameters of the parent run: the design, factors, objective and base config."""
    config = plan.config
    params = {
        "design.kind": plan.design.kind,
        "design.spec": config.design.model_dump_json(),
        "objective.metric": config.objective.metric,
        "objective.direction": "maximize" if config.objective.maximize else "minimize",
        "concurrency": str(plan.concurrency),
        "log_models": config.log_models,
        "mode": config.mode,
        "base.source": config.base or "(embedded defaults)",
    }
    # `factor.<short name>`, as the MLflow UI shows it; each value keeps the full config key
    params.update(factor_params(config.factors))
    params.update({f"base.{k}": v for k, v in plan.base.flat_params().items()})
    return params


def sweep_tags(plan: SweepPlan) -> dict[str, str]:
    """The parent run's tags; a study's later stage links the earlier stages' runs."""
    tags = {
        "sweep.id": plan.digest,
        "sweep.design": plan.design.kind,
        "sweep.n_points": str(len(plan.jobs)),
        "sweep.objective": plan.config.objective.metric,
        "sweep.role": "parent",
        "model_name": plan.base.registered_model_name,
    }
    if plan.config.responses:
        tags["sweep.responses"] = ",".join(r.metric for r in plan.config.responses)
    study = plan.config.study
    if study is None:
        tags |= {"study.id": plan.digest, "study.stage": "1", "study.step": "screen"}
    else:
        tags |= {
            "study.id": study.stages[0].sweep_id,
            "study.stage": str(study.stage),
            "study.step": study.step,
            "study.previous_run_id": study.stages[-1].run_id,
            "study.previous_run_ids": ",".join(s.run_id for s in study.stages),
            "study.previous_sweep_ids": ",".join(s.sweep_id for s in study.stages),
        }
    return tags


SKIPPED = "skipped"


def batches(plan: SweepPlan) -> list[list[PointJob]]:
    """The points in the batches they train in: a path's in batches of `concurrency`."""
    if plan.design.kind != "path" or plan.config.runs is None:
        return [plan.jobs]
    new = plan.config.runs.new
    earlier, own = plan.jobs[: len(plan.jobs) - new], plan.jobs[len(plan.jobs) - new :]
    size = max(1, plan.concurrency)
    chunks = [own[i : i + size] for i in range(0, len(own), size)]
    if earlier:
        chunks[0] = earlier + chunks[0]
    return chunks


def path_stops(before: list[PointResult], batch: list[PointResult], maximize: bool) -> str:
    """Why a path stops after `batch` ("" to go on): no run of it beats the best before it."""
    sign = 1.0 if maximize else -1.0
    prior = [sign * float(r.objective) for r in before if r.ok and r.objective is not None]
    now = [sign * float(r.objective) for r in batch if r.ok and r.objective is not None]
    if not before:
        return "" if now else "the first runs of the path failed"
    if not now:
        return "a batch of the path failed"
    if prior and max(now) <= max(prior):
        return f"the response stopped improving after run {len(before) - 1}"
    return ""


def skipped(plan: SweepPlan, results: list[PointResult], why: str) -> list[PointResult]:
    """The path's runs left untrained, recorded as skipped (not failed)."""
    ran = {r.index for r in results}
    return [
        PointResult(j.index, j.point, SKIPPED, error=f"not run: {why}")
        for j in plan.jobs
        if j.index not in ran
    ]


def next_command(plan: SweepPlan, analysis: Any) -> str:
    """The next stage's command: the analysis's hint; after a path, a design around its
    best run; after a GP batch, another batch (or --confirm, which every stage ends with)."""
    ref = plan.digest[:12]
    if plan.design.kind == "path":
        kind = plan.config.design.kind
        return f"python -m flows.sweep --next {ref} (a {kind} around the best run of the path)"
    if plan.design.kind == "gp":
        return (
            f"python -m flows.sweep --next {ref} --model gp (another batch by expected improvement)"
        )
    hint = next_step_hint(plan.design, analysis.result, plan.digest)
    if hint.startswith(f"python -m flows.sweep --next {ref} ("):
        # The textbook move: single runs along the path until the response stops improving
        way = "ascent" if plan.config.objective.maximize else "descent"
        return (
            f"python -m flows.sweep --path {ref} (single runs along the path of steepest "
            f"{way} until the response stops improving)"
        )
    if not hint and plan.design.kind in ("central_composite", "augment_ccd", "box_behnken"):
        return f"python -m flows.sweep --next {ref} --model gp (refine with a Gaussian process)"
    return hint


def response_words(plan: SweepPlan, metric: str) -> str:
    """What the analysis ranked on, in words."""
    if plan.folds:
        return f"{metric}: mean of {plan.folds}-fold cross-validation on the training split"
    return f"{metric} on the test split (cross-validation off)"


def results_table(plan: SweepPlan, results: list[PointResult]) -> Any:
    """The results table, ranked on the response, with each run's split and training seed."""
    table = point_table(plan.design, results, plan.response(plan.config.objective.metric))
    seeds = {j.index: (j.config.split.seed, j.config.split.model_seed) for j in plan.jobs}
    return with_seeds(table, seeds)


def study_stages(plan: SweepPlan, parent_run_id: str) -> list[dict[str, str]]:
    """Every stage of the study up to this one, for the report's table."""
    study = plan.config.study
    rows = [
        {
            "stage": str(s.stage),
            "step": s.step,
            "design": s.design,
            "runs": str(s.runs),
            "sweep id": s.sweep_id[:12],
            "run": s.run_id,
        }
        for s in (study.stages if study else [])
    ]
    rows.append(
        {
            "stage": str(study.stage if study else 1),
            "step": study.step if study else "screen",
            "design": plan.design.kind,
            "runs": str(len(plan.design)),
            "sweep id": plan.digest[:12],
            "run": f"{parent_run_id} (this run)",
        }
    )
    return rows


def collect(
    futures: list[Any], jobs: list[PointJob], on_result: ProgressCallback | None = None
) -> list[PointResult]:
    """Results in design order, telling listeners (and `on_result`) as each point finishes."""
    job_of = {id(f): j for f, j in zip(futures, jobs, strict=True)}
    results = []
    for future in as_completed(futures):
        job = job_of[id(future)]
        try:
            result = future.result()
        except Exception as exc:  # the point's bookkeeping failed, not only its training
            result = PointResult(job.index, job.point, "failed", error=error_line(exc))
        results.append(result)
        with _listeners_lock:
            listeners = list(_listeners)
        for callback in [*listeners, *([on_result] if on_result else [])]:
            callback(result)
    return sorted(results, key=lambda r: r.index)


def complete_best(
    plan: SweepPlan, parent_run_id: str, best: PointResult | None, settings: PlatformSettings
) -> tuple[PointResult | None, str]:
    """Log the report and model of the best point into its run, if it has none yet.

    A training sub-flow run of the best point's config, completing its lean
    MLflow run: ingest, features and a scikit-learn fit come from the cache.
    Returns the point with its model URI, and an error line if that failed.
    """
    if best is None or not best.run_id or best.model_uri:
        return best, ""
    job = plan.jobs[best.index]
    try:
        training = training_flow(job.config.model.framework)
        done = training(
            job.config,
            parent_run_id=parent_run_id,
            complete_run_id=best.run_id,
            settings=settings,
        )
        st.tag_point_model(settings, best.run_id, done.model_uri)
    except Exception as exc:
        return best, f"the best point's model was not logged: {error_line(exc, 460)}"
    return dataclasses.replace(best, model_uri=done.model_uri), ""


# The worker processes of the sweep that `run_sweep` runs in this context, if any, and
# the plan it was given: neither is a flow parameter (they are no data for the UI).
_executor: contextvars.ContextVar[Executor | None] = contextvars.ContextVar(
    "sweep_executor", default=None
)
_plan: contextvars.ContextVar[SweepPlan | None] = contextvars.ContextVar("sweep_plan", default=None)


def _plan_of(config: SweepConfig) -> SweepPlan:
    """The plan `run_sweep` was handed for this config; planned here only when the flow
    runs on its own (a direct call, or a flow run started from the UI)."""
    given = _plan.get()
    return given if given is not None and given.config == config else plan_sweep(config)


@flow(name="doe-sweep", version="1")
def sweep(config: SweepConfig, settings: PlatformSettings | None = None) -> StageSummary:
    """Run every point of a designed experiment, analyse the results, register the best.

    The points train in worker processes when `run_sweep` was given an
    executor, else each in its task's thread. `settings` are the caller's,
    handed to every point (built here when not given).
    """
    executor = _executor.get()
    settings = settings or PlatformSettings()
    objective = config.objective

    # 1. Plan: the design and one validated training config per point (the caller's)
    plan = _plan_of(config)
    base = plan.base
    storage = open_storage(settings)

    # 2. Tracking: the parent MLflow run, with the design as artifacts
    parent = st.start_sweep(
        settings,
        experiment=base.tracking.experiment,
        artifact_root=settings.artifact_root_for(storage.root),
        artifact_env=storage.artifact_env(),
        run_name=plan.run_name,
        params=sweep_params(plan),
        tags=sweep_tags(plan),
    )
    with tracking.failing_on_error(parent):
        # The config with its base YAML merged in: a later stage plans from it alone
        st.log_design(parent, plan.design, config.resolved().model_dump_json(indent=2))

        # 3. Points: one training sub-flow run each, nested under the parent; the
        # runs they may reuse (this sweep's earlier runs, a study's stages) found at once
        reusable = st.find_reusable_points(
            settings,
            experiment=base.tracking.experiment,
            sweep_id=plan.digest,
            earlier=tuple(config.study.reuse_ids) if config.study else (),
        )
        # The value each point is ranked on: the cross-validated mean (cv.<metric>)
        response = plan.response(objective.metric)
        board = SweepBoard(plan.run_name, plan.design, response)  # live in the UI
        results: list[PointResult] = []
        # A path trains in batches of `concurrency` runs and stops at the first batch
        # that does not improve on the best so far; any other design in one batch.
        for batch in batches(plan):
            futures = run_point.map(
                batch,
                prior=[reusable.get(job.config_digest) for job in batch],
                settings=unmapped(settings),
                parent_run_id=unmapped(parent.run_id),
                sweep_id=unmapped(plan.digest),
                metric=unmapped(response),
                mode=unmapped(config.mode),
                deployment_name=unmapped(config.deployment_name),
                timeout=unmapped(config.point_timeout_s),
                lean=unmapped(config.log_models != "all"),
                executor=unmapped(executor),
            )
            done = collect(list(futures), batch, on_result=board.point_done)
            stop = path_stops(results, done, objective.maximize)
            results += done
            if stop:
                results += skipped(plan, results, stop)
                break
        if down := tracking.take_tracking_down(parent.run_id):  # nothing more can be logged
            left = sum(r.status == SKIPPED for r in results) + len(plan.jobs) - len(results)
            raise tracking.TrackingServerDown(
                f"{down}: {left} of {len(plan.jobs)} points not run; start it again and "
                "run the same command (finished points are reused)"
            )
        st.log_results(parent, results_table(plan, results))

        # 4. Analysis and report
        analysis = st.analyse_sweep(plan.design, config.space, results, objective.maximize)
        multi = None
        if config.responses:  # each response on its own, then their desirability
            goals = config.response_goals
            natural = {name: natural_goal(name) for name in goals}
            logged = {name: plan.response(name) for name in goals}  # r2 read from cv.r2
            views = response_view(results, logged)
            multi = st.analyse_responses(plan.design, config.space, views, goals, natural)
            st.log_responses(parent, multi)
        stages = study_stages(plan, parent.run_id)
        next_step = next_command(plan, analysis)
        counts = {
            "sweep.points": float(len(results)),
            "sweep.completed": float(sum(r.ok for r in results)),
            "sweep.reused": float(sum(r.status == "reused" for r in results)),
            "sweep.failed": float(
                sum(r.status == "failed" or (not r.ok and r.status != SKIPPED) for r in results)
            ),
        }
        # The best setting by its mean over replicates (every run on the same split)
        ranked = best_setting(results, objective.maximize)
        best = ranked.run if ranked else None
        # The best point's report and model, logged into its lean run (cached fit)
        best, completion_error = complete_best(plan, parent.run_id, best, settings)
        if ranked is not None:
            counts[f"best.{response}"] = ranked.mean
        st.log_analysis(parent, analysis, counts)
        # The recommendation (every factor, with its 95% prediction interval)
        recommendation, why_none = st.recommend_setting(
            plan.design, config.space, results, objective.maximize
        )
        if recommendation is not None:
            st.log_recommendation(parent, recommendation)
        html = st.build_sweep_report(
            f"{plan.run_name}: DOE sweep",
            plan.design,
            config.space,
            results,
            analysis,
            response,
            best,
            {
                "sweep id": plan.digest,
                "parent run": parent.run_id,
                "experiment": base.tracking.experiment,
                **({"next stage": next_step} if next_step else {}),
            },
            multi,
            stages if config.study else None,
        )
        report_uri = publish_report(parent, html, storage)

        # 5. The best point's model through the registry gate, registered only when it
        # would beat the champion: at most one version per stage
        registration, gate_reason = None, ""
        gated = config.register_best and best is not None and best.run_id and best.model_uri
        decision = (
            st.gate_check(
                settings,
                best.run_id,
                name=base.registered_model_name,
                gate=base.gate,
                task_type=best.task_type,
                metrics=best.metrics,
            )
            if gated and best is not None and best.run_id
            else None
        )
        if decision is not None and not decision.promote:
            gate_reason = f"not registered: {decision.reason}"
        if gated and (decision is None or decision.promote) and best is not None and best.run_id:
            registration = register_model(
                st.child_run(settings, best.run_id),
                name=base.registered_model_name,
                model_uri=best.model_uri,
                gate=base.gate,
                task_type=best.task_type,
                metrics=best.metrics,
                tags={
                    "config_digest": best.run_id and plan.jobs[best.index].config_digest,
                    "data_sha256": best.data_digest,
                    "sweep.id": plan.digest,
                    "sweep.parent_run_id": parent.run_id,
                },
                settings=settings,
            )
        st.finish_sweep(
            parent,
            {
                "sweep.failed": str(int(counts["sweep.failed"])),
                "sweep.best_run_id": best.run_id or "" if best else "",
                "sweep.registered_version": registration.version if registration else "",
            },
        )

    # 6. Summary in the Prefect UI
    fitted = analysis.best_fitted()
    summary = StageSummary(
        space=config.space,  # values in the summary rounded by each factor's range
        parent_run_id=parent.run_id,
        run_url=parent.url,
        experiment=base.tracking.experiment,
        sweep_id=plan.digest,
        design=plan.design.kind,
        points=len(results),
        completed=int(counts["sweep.completed"]),
        reused=int(counts["sweep.reused"]),
        failed=int(counts["sweep.failed"]),
        metric=objective.metric,
        direction="maximize" if objective.maximize else "minimize",
        top_effects=analysis.top_effects(),
        optimum=fitted[0] if fitted else None,
        predicted_optimum=fitted[1] if fitted else None,
        optimum_kind=fitted[2] if fitted else "optimum",
        surface_r2=analysis.r_squared() if fitted else None,
        significance=analysis.significance(),
        best_index=best.index if best else None,
        best_point=best.point if best else None,
        best_value=ranked.mean if ranked else None,
        best_run_id=best.run_id if best else None,
        model_name=registration.name if registration else None,
        version=registration.version if registration else None,
        champion=bool(registration and registration.promoted),
        gate_reason=(
            registration.reason
            if registration
            else (
                "registration disabled"
                if not config.register_best
                else gate_reason or completion_error or "no point completed"
            )
        ),
        report_uri=report_uri,
        ui_command=settings.ui_command(),
        notes=list(analysis.notes)
        + list(multi.notes if multi else ())
        + ([why_none] if why_none else []),
        study=[
            f"{r['stage']}: {r['step']}, {r['design']}, {r['runs']} runs, sweep {r['sweep id']}"
            for r in stages
        ]
        if config.study
        else [],
        desirability=multi.lines() if multi else [],
        next_step=next_step,
        response=response_words(plan, objective.metric),
        effects=analysis.result.effects if analysis.result is not None else None,
        best_runs=ranked.runs if ranked else 1,
        recommendation=recommendation,
        confirm=confirm_command(plan.digest) if recommendation is not None else "",
        step=config.study.step if config.study else "screen",
    )
    st.publish_sweep_summary(stage_markdown(summary), plan.run_name)
    return summary


def run_sweep(
    config: SweepConfig,
    plan: SweepPlan | None = None,
    executor: Executor | None = None,
    settings: PlatformSettings | None = None,
) -> StageSummary:
    """Run the sweep flow, `plan.concurrency` points at once (default: the cores).

    `plan` is the caller's `plan_sweep(config)` (planned here when not given):
    the flow runs it as it is, without planning again. Each point's task waits
    in one of `concurrency` threads; its training runs in that thread, or in a
    worker process of `executor` when one is given
    (`deployments.runtime.pool.process_pool`, as `python -m flows.sweep` does).
    `settings` are the command's, handed down to every point.
    """
    from prefect.task_runners import ThreadPoolTaskRunner

    plan = plan or plan_sweep(config)
    runner: Any = ThreadPoolTaskRunner(max_workers=plan.concurrency)
    executor_token, plan_token = _executor.set(executor), _plan.set(plan)
    try:
        return sweep.with_options(task_runner=runner)(config, settings=settings)
    finally:
        _executor.reset(executor_token)
        _plan.reset(plan_token)
        clear_shared()  # the points' shared data and features: a next sweep reads afresh


@flow(name="sweep", version="1")
def sweep_file(
    config_file: str = "configs/sweeps/wine_rf_screening.yaml",
    overrides: list[str] | None = None,
    next_stage: Literal["fold_over", "augment", "next", "path", "gp"] | None = None,
    earlier: str | None = None,
    on: str | None = None,
    factors: list[str] | None = None,
    steps: int | None = None,
    runs: int | None = None,
    to: Literal["ccd", "optimal"] = "ccd",
    model: Literal["linear", "interactions", "quadratic"] | None = None,
) -> Any:
    """The deployable sweep (`sweep/<deployment>`): a sweep config file plus overrides.

    With `overrides: [mode=deployment, deployment_name=train/default]` every
    point becomes a run of the `train/default` deployment, so the workers of its
    pool share the sweep. With `next_stage` and `earlier` (a sweep id or parent
    run id) it runs the next stage of that sweep's study instead, as
    `python -m flows.sweep --fold-over/--augment/--next` does (`config_file`
    is then not read; `on`, `factors`, `steps`, `runs`, `to` and `model` as --on,
    --factors, --steps, --runs, --to and --model of --augment). The command
    line (`python -m flows.sweep`) runs `run_sweep` directly.
    """
    settings = check_environment()  # this flow run's process: its settings, read once
    if next_stage is None:
        return run_sweep(load_sweep_config(config_file, overrides or []), settings=settings)
    if not earlier:
        raise InputError(f"earlier: {ARGUMENT[next_stage]} needs the earlier sweep's id")
    found = find_sweep(settings, earlier, "earlier")
    config, _ = plan_next_stage(
        found,
        next_stage,
        on=on,
        factors=factors or (),
        overrides=overrides or (),
        steps=steps,
        runs=runs,
        to=to,
        model=model,
    )
    return run_sweep(config, settings=settings)


__all__ = [
    "complete_best",
    "on_point_done",
    "run_sweep",
    "study_stages",
    "sweep",
    "sweep_file",
    "sweep_params",
    "sweep_tags",
]
