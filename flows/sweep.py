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
    """A terminal progress bar (on stderr) for points done and failed; yields its callback."""
    if not enabled:
        yield lambda result: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("[bold]sweep[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("points  failed: {task.fields[failed]}  reused: {task.fields[reused]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    counts = {"failed": 0, "reused": 0}
    with progress:
        bar = progress.add_task("points", total=total, failed=0, reused=0)

        def advance(result: Any) -> None:
            counts["failed"] += result.status == "failed"
            counts["reused"] += result.status == "reused"
            progress.update(bar, advance=1, failed=counts["failed"], reused=counts["reused"])

        yield advance


def print_summary(summary: Any) -> None:
    from tasks.sweep import summary_lines

    lines = ["", "Sweep complete.", *(f"  {line}" for line in summary_lines(summary))]
    print("\n".join(lines), flush=True)


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

    return run_command(body, print_summary, what="sweep")


if __name__ == "__main__":
    sys.exit(run_module_main("flows.sweep", main))
