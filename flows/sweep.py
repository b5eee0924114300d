"""`python -m flows.sweep`: run a designed experiment over a training config and analyse it.

    python -m flows.sweep --config FILE [--set dotted.key=value ...] [--print-schema]

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
from typing import Any

from flows.cli import add_config_arguments, run_command, run_module_main
from flows.sweep_config import SweepConfig, load_sweep_config, plan_sweep


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flows.sweep", description=__doc__.split("\n")[0]
    )
    add_config_arguments(
        parser,
        config_help="YAML sweep config (configs/sweeps/)",
        example="train.data.max_rows=200",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
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


def print_summary(summary: Any) -> None:
    from flows.cli import print_summary as print_block
    from tasks.sweep import summary_lines

    print_block("Sweep complete.", summary_lines(summary))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_schema:
        print(json.dumps(SweepConfig.model_json_schema(), indent=2))
        return 0

    def body() -> Any:
        from libs.settings import check_environment

        check_environment()  # a bad MLOPS_HOME or tracking URI fails before a server starts
        from deployments.runtime import local_prefect, starting_local_prefect

        with starting_local_prefect():  # the server starts while the points are checked
            config = load_sweep_config(args.config, args.overrides)
            # Every point is validated here, before Prefect or MLflow do any work.
            plan = plan_sweep(config, args.config)
            from flows.sweep_flow import on_point_done, run_sweep

        bar = progress_bar(len(plan.jobs), not args.no_progress)
        with local_prefect(leave_warm_worker=True), bar as advance, on_point_done(advance):
            return run_sweep(config, plan)

    return run_command(body, print_summary, what="sweep", verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(run_module_main("flows.sweep", main))
