"""The DOE sweep flow: every design point as a training sub-flow run, then the analysis.

`python -m flows.sweep` is the command line around it; this module is the
flow itself (`doe-sweep`) and `run_sweep`, which runs it on the caller's plan. The
deployable sweep from a config file (the deployments' entrypoint) is
`flows/runs/sweep_file.py:sweep_file`; how the points train in
batches, how the run is labelled and what becomes of the best point live beside it
(`sweep_batches`, `sweep_labels`, `sweep_best`).
"""

from __future__ import annotations

import contextvars
from concurrent.futures import Executor
from typing import Any

from prefect import flow, unmapped

from flows.config.sweep import SweepConfig, SweepPlan, plan_sweep
from flows.config.sweep_schema import natural_goal
from flows.runs.sweep_batches import SKIPPED, batches, collect, path_stops, skipped
from flows.runs.sweep_best import complete_best, holdout_note, register_best, with_completed
from flows.runs.sweep_labels import (
    next_command,
    response_words,
    results_table,
    study_stages,
    sweep_params,
    sweep_tags,
)
from flows.runs.sweep_points import run_point
from libs.doe.sweep import PointResult
from libs.settings import PlatformSettings
from libs.studies import best_setting, response_view
from libs.study_results import StageSummary, confirm_command, stage_markdown
from tasks import sweep as st
from tasks import tracking
from tasks.artifacts import SweepBoard
from tasks.caching import clear_shared
from tasks.report import publish_report
from tasks.storage import open_storage
from tasks.sweep_analysis import (
    analyse_responses,
    analyse_sweep,
    build_sweep_report,
    recommend_setting,
)

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
                lean=unmapped(config.lean_points),
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

        # 4. Analysis and report
        analysis = analyse_sweep(plan.design, config.space, results, objective.maximize)
        multi = None
        if config.responses:  # each response on its own, then their desirability
            goals = config.response_goals
            natural = {name: natural_goal(name) for name in goals}
            logged = {name: plan.response(name) for name in goals}  # r2 read from cv.r2
            views = response_view(results, logged)
            multi = analyse_responses(plan.design, config.space, views, goals, natural)
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
        results = with_completed(results, best)  # its test scores, the only ones (folds)
        st.log_results(parent, results_table(plan, results))
        if ranked is not None:
            counts[f"best.{response}"] = ranked.mean
        st.log_analysis(parent, analysis, counts)
        # The recommendation (every factor, with its 95% prediction interval)
        recommendation, why_none = recommend_setting(
            plan.design, config.space, results, objective.maximize
        )
        if recommendation is not None:
            st.log_recommendation(parent, recommendation)
        html = build_sweep_report(
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
                **holdout_note(plan, best),
                **({"next stage": next_step} if next_step else {}),
            },
            multi,
            stages if config.study else None,
        )
        report_uri = publish_report(parent, html, storage)

        # 5. The best point's model through the registry gate, registered only when it
        # would beat the champion: at most one version per stage
        registration, gate_reason = register_best(plan, parent.run_id, best, settings)
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


__all__ = ["run_sweep", "sweep"]
