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
from libs.errors import InputError

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


def stage_request(args: argparse.Namespace) -> tuple[str, str] | None:
    """(step, sweep) for --fold-over/--augment/--next, after checking the arguments."""
    given = [
        (step, ref)
        for step, ref in (
            ("fold_over", args.fold_over),
            ("augment", args.augment),
            ("gp" if args.model == "gp" else "next", args.next),
            ("path", args.path),
            ("confirm", args.confirm),
        )
        if ref is not None
    ]
    if len(given) > 1:
        raise InputError("--fold-over, --augment, --next, --path, --confirm: give one of them")
    if args.model is not None and args.next is None and args.augment is None:
        raise InputError("--model: only with --next (gp) or --augment --to optimal")
    if given and args.config:
        raise InputError(
            f"--config: not with {ARGS[given[0][0]]} (the earlier sweep's config is used)"
        )
    step = given[0][0] if given else None
    if args.on is not None and step != "fold_over":
        raise InputError("--on: only with --fold-over")
    if (args.to is not None or args.factors is not None) and step != "augment":
        raise InputError(f"--{'to' if args.to is not None else 'factors'}: only with --augment")
    if step == "augment":
        check_augment(args)
    elif args.model not in (None, "gp"):
        raise InputError(f"--model: {args.model!r} with --next: only gp")
    if args.runs is not None and step not in ("confirm", "gp", "augment"):
        raise InputError("--runs: only with --confirm, --next --model gp or --augment --to optimal")
    if args.runs is not None and args.runs < 1:
        raise InputError(f"--runs: at least 1, got {args.runs}")
    if args.steps is not None and step != "path":
        raise InputError("--steps: only with --path")
    if args.steps is not None and args.steps < 1:
        raise InputError(f"--steps: at least 1, got {args.steps}")
    if given and not given[0][1].strip():
        raise InputError(f"{ARGS[given[0][0]]}: a sweep id or parent run id is needed")
    return given[0] if given else None


AUGMENT_MODELS = ("linear", "interactions", "quadratic")


def check_augment(args: argparse.Namespace) -> None:
    """--to, --model and --runs of an augmentation: one line naming the argument."""
    if args.to is None:
        raise InputError("--to: --augment needs the design to reach (--to ccd or --to optimal)")
    if args.to not in ("ccd", "optimal"):
        raise InputError(f"--to: {args.to!r} is not a design to reach (ccd, optimal)")
    if args.to == "ccd" and (args.model is not None or args.runs is not None):
        raise InputError(
            f"--{'model' if args.model is not None else 'runs'}: only with --to optimal "
            "(a central composite design's runs follow from its factors)"
        )
    if args.to == "optimal":
        if args.model is not None and args.model not in AUGMENT_MODELS:
            raise InputError(f"--model: {args.model!r} is not one of {', '.join(AUGMENT_MODELS)}")
        if args.runs is None:
            raise InputError("--runs: --augment --to optimal needs the number of new runs")


ARGS = {
    "fold_over": "--fold-over",
    "augment": "--augment",
    "next": "--next",
    "gp": "--next",
    "path": "--path",
    "confirm": "--confirm",
}


def stage_config(
    args: argparse.Namespace, step: Any, ref: str, settings: PlatformSettings
) -> tuple[SweepConfig, list[str]]:
    """The next stage's config, planned from the earlier sweep read back from MLflow."""
    from flows.config.stages import lineage_ids, next_stage
    from tasks.sweep_records import find_sweep

    earlier = find_sweep(settings, ref, ARGS[step])
    # a GP stage models every run of the study: the earlier stages are read back too
    history = (
        [find_sweep(settings, i, ARGS[step]) for i in lineage_ids(earlier)] if step == "gp" else []
    )
    factors = [f.strip() for f in (args.factors or "").split(",") if f.strip()]
    return next_stage(
        earlier,
        step,
        on=args.on,
        factors=factors,
        overrides=args.overrides,  # type: ignore[arg-type]
        steps=args.steps,
        runs=args.runs,
        history=history,
        to=args.to or "ccd",
        model=args.model if step == "augment" else None,
    )


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
) -> tuple[Any, dict[int, float], int, bool, str]:
    """The earlier stage's config and responses, the confirmation checked before any run."""
    from flows.runs.confirm import DEFAULT_RUNS, confirmation_inputs

    runs = DEFAULT_RUNS if args.runs is None else args.runs
    config, responses, parent = confirmation_inputs(settings, ref, runs)
    return config, responses, runs, True, parent


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

    from flows.runs.sweep_points import keep_in_worker

    with process_pool(
        plan.worker_processes, preload=POINT_MODULES, keep_handler=keep_in_worker
    ) as pool:
        yield pool


# What a point's worker imports before its first point (forkserver workers).
POINT_MODULES = ("flows.runs.sweep_points", "flows.runs.frameworks")


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

    def body() -> Any:
        from flows.config.sweep import load_sweep_config, plan_sweep

        request = stage_request(args)  # the arguments first: they need nothing else
        from deployments.runtime import local_prefect, platform_settings, starting_local_prefect

        # This process's settings, read once (local_prefect gets the same ones): a bad
        # MLOPS_HOME or tracking URI fails before a server starts
        read = platform_settings()

        if request is not None and request[0] == "confirm":
            with starting_local_prefect():
                job = confirm_job(args, request[1], read)
                from flows.runs.confirm import confirm
            with local_prefect(leave_warm_worker=True) as settings:
                return confirm(*job, settings=settings)
        with starting_local_prefect():  # the server starts while the points are checked
            if request is None:
                config = load_sweep_config(args.config, args.overrides)
            else:
                config, said = stage_config(args, *request, read)
                for line in said:
                    print(line, file=sys.stderr)
            # Every point is validated here, before Prefect or MLflow do any work.
            source = ARGS[request[0]] if request else args.config
            plan = plan_sweep(config, source)
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

    return run_command(body, print_summary, what="sweep", verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(run_module_main("flows.sweep", main))
