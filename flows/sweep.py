"""`python -m flows.sweep`: run a designed experiment over a training config and analyse it.

    python -m flows.sweep --config FILE [--set dotted.key=value ...] [--print-schema]
    python -m flows.sweep --fold-over SWEEP [--on FACTOR]    # stage 2: separate aliases
    python -m flows.sweep --augment SWEEP --to ccd [--factors A,B]   # a response surface
    python -m flows.sweep --augment SWEEP --to optimal --runs N [--model quadratic] [--factors A,B]
    python -m flows.sweep --next SWEEP     # a new design along the path of steepest ascent
    python -m flows.sweep --path SWEEP [--steps N]     # single runs along steepest ascent
    python -m flows.sweep --next SWEEP --model gp [--runs N]   # a batch by expected improvement
    python -m flows.sweep --confirm SWEEP [--runs N]   # train the recommendation N times
    python -m flows.sweep --config FILE [--config FILE ...] --evaluate   # judge designs first

SWEEP is a sweep id (or its first characters as printed) or the parent MLflow
run id of a finished sweep; the new stage reuses every point already run.

Each design point is one sub-flow run of the training flow, nested in MLflow
under one parent sweep run that holds the design, the results table, the
analysis and its report; the best point's model goes through the registry
gate. A bad config prints one line naming the field (or the factor) and exits
with code 2 before any run or file is created.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from flows.cli import add_config_arguments, run_command, run_module_main
from flows.sweep_stage_args import ARGS, stage_config, stage_request

if TYPE_CHECKING:  # imported when used: the warm worker runs the command (see flows.cli)
    from flows.config.sweep import SweepConfig
    from libs.settings import PlatformSettings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flows.sweep", description=__doc__.split("\n")[0]
    )
    add_config_arguments(
        parser,
        config_help="YAML sweep config (configs/sweeps/)",
        example="train.data.max_rows=200",
    )
    parser.add_argument(
        "--evaluate",
        action="store_true",
        help="judge the design before any training (power, VIF, efficiency, correlations); "
        "repeat --config to compare designs side by side (python -m flows.sweep_evaluate)",
    )
    stage = parser.add_argument_group("the next stage of a study (reuses the points already run)")
    stage.add_argument("--fold-over", metavar="SWEEP", help="fold a two-level fraction over")
    stage.add_argument("--on", metavar="FACTOR", help="with --fold-over: fold on one factor")
    stage.add_argument(
        "--augment",
        metavar="SWEEP",
        help="augment a design (a two-level one --to ccd, any one --to optimal)",
    )
    stage.add_argument(
        "--to",
        metavar="ccd|optimal",
        help="with --augment: a central composite design, or --runs D-optimal runs for --model",
    )
    stage.add_argument(
        "--factors",
        metavar="A,B",
        help="with --augment: the surface's factors (default: the active ones)",
    )
    stage.add_argument("--next", metavar="SWEEP", help="a design along steepest ascent")
    stage.add_argument(
        "--model",
        metavar="gp|linear|interactions|quadratic",
        help="with --next: gp, a batch proposed by a Gaussian process fitted to every run so "
        "far; with --augment --to optimal: the model the new runs serve (default quadratic)",
    )
    stage.add_argument(
        "--path", metavar="SWEEP", help="single runs along the path of steepest ascent"
    )
    stage.add_argument(
        "--steps", type=int, metavar="N", help="with --path: the most runs along it (default 8)"
    )
    stage.add_argument(
        "--confirm",
        metavar="SWEEP",
        help="train the stage's recommendation --runs times, check it against its interval",
    )
    stage.add_argument(
        "--runs",
        type=int,
        metavar="N",
        help="with --confirm: confirmation runs (default 3); with --model gp: the batch (4); "
        "with --augment --to optimal: the new runs",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def progress_bar(total: int, enabled: bool = True) -> Iterator[Any]:
    """The sweep's bar (points done, failed, reused) on `libs.progress`; yields its callback."""
    from libs.progress import progress_bar as bar

    fields = "points  failed: {task.fields[failed]}  reused: {task.fields[reused]}"
    counts = {"failed": 0, "reused": 0}
    with bar("[bold]sweep[/bold]", total, fields=fields, enabled=enabled) as step:

        def advance(result: Any) -> None:
            counts["failed"] += result.status == "failed"
            counts["reused"] += result.status == "reused"
            step(1, **counts)

        yield advance


def confirm_job(
    args: argparse.Namespace, ref: str, settings: PlatformSettings
) -> tuple[Any, dict[int, float], bool, str]:
    """The confirmation planned from the earlier stage before any run: `run_confirm`'s
    arguments (the plan, the stage's responses, gated, the stage's run id)."""
    from flows.runs.confirm import DEFAULT_RUNS, confirmation_inputs

    runs = DEFAULT_RUNS if args.runs is None else args.runs
    planned, responses, parent = confirmation_inputs(settings, ref, runs)
    return planned, responses, True, parent


def print_summary(summary: Any) -> None:
    from flows.cli import print_summary as print_block
    from libs.study_results import ConfirmationResult

    # every line in short factor names, values rounded by each factor's range (`__str__`)
    title = (
        "Confirmation complete." if isinstance(summary, ConfirmationResult) else "Sweep complete."
    )
    print_block(title, str(summary).splitlines())


@contextlib.contextmanager
def point_workers(plan: Any, settings: Any) -> Iterator[Any]:
    """The sweep's worker processes (`workers: processes`), or None: threads."""
    if not plan.worker_processes:
        yield None
        return
    from deployments.runtime.pool import process_pool
    from tasks.tracking import prepare_store

    # Opened here, the tracking store (created, migrated, checked) is inherited by
    # forked workers instead of being opened again in each.
    prepare_store(settings)

    from flows.runs.point_training import keep_in_worker

    with process_pool(
        plan.worker_processes, preload=POINT_MODULES, keep_handler=keep_in_worker
    ) as pool:
        yield pool


# What a point's worker imports before its first point (forkserver workers).
POINT_MODULES = ("flows.runs.sweep_points", "flows.runs.point_training", "flows.runs.frameworks")


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if "--evaluate" in raw:  # before parsing: it takes --config more than once
        from flows.sweep_evaluate import main as evaluate_main

        return evaluate_main(raw)
    args = parse_args(argv)
    if args.print_schema:
        from flows.config.sweep import SweepConfig

        print(json.dumps(SweepConfig.model_json_schema(), indent=2))
        return 0

    request: tuple[str, str] | None = None
    checked: tuple[SweepConfig, Any] | None = None  # a plain sweep's config and plan

    def check() -> None:
        """The arguments, the settings and a sweep config, before Prefect and MLflow are
        imported (a stage's config comes from the earlier sweep in MLflow: in `body`)."""
        nonlocal request, checked
        request = stage_request(args)  # the arguments first: they need nothing else
        from deployments.runtime import platform_settings

        # This process's settings, read once (local_prefect gets the same ones): a bad
        # MLOPS_HOME or tracking URI fails before a server starts
        platform_settings()
        if request is None:  # every point is validated here too
            from flows.config.sweep import load_sweep_config, plan_sweep

            config = load_sweep_config(args.config, args.overrides)
            checked = config, plan_sweep(config, args.config)

    def body() -> Any:
        from deployments.runtime import local_prefect, platform_settings, starting_local_prefect
        from flows.config.sweep import plan_sweep

        read = platform_settings()
        if request is not None and request[0] == "confirm":
            with starting_local_prefect():
                job = confirm_job(args, request[1], read)
                from flows.runs.confirm import run_confirm
            with local_prefect(leave_warm_worker=True) as settings:
                return run_confirm(*job, settings=settings)
        with starting_local_prefect():  # the server starts while the flows are imported
            if request is None:
                assert checked is not None
                config, plan = checked
            else:
                config, said = stage_config(args, *request, read)
                for line in said:
                    print(line, file=sys.stderr)
                # Every point is validated here, before Prefect or MLflow do any work.
                plan = plan_sweep(config, ARGS[request[0]])
            from flows.runs.sweep import run_sweep
            from flows.runs.sweep_batches import on_point_done

        bar = progress_bar(len(plan.jobs), not args.no_progress)
        with (
            local_prefect(leave_warm_worker=True) as settings,
            point_workers(
                plan, settings
            ) as executor,  # before the bar: forked while single-threaded
            bar as advance,
            on_point_done(advance),
        ):
            return run_sweep(config, plan, executor, settings)

    return run_command(body, print_summary, what="sweep", verbose=args.verbose, check=check)


if __name__ == "__main__":
    sys.exit(run_module_main("flows.sweep", main))
