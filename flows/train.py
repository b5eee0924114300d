"""`python -m flows.train`: train, evaluate and register a model from a config.

    python -m flows.train [--config FILE] [--set dotted.key=value ...] [--print-schema]
    python -m flows.train --reproduce MODEL/version [--allow-data-change]
    (and, as every command, --no-progress and -v/--verbose)

Runs on embedded defaults with nothing configured: MLflow on SQLite, data in a
local folder, and a local Prefect server that the first run starts in the
background and later runs reuse (`make serve-stop` ends it;
MLOPS_PREFECT_SERVER=temporary uses Prefect's per-run temporary server
instead), all under `MLOPS_HOME` (default `.mlops/`). A bad config or bad data prints one line
naming the field or file and exits with code 2.

`--reproduce` re-runs a registered version's recorded config (every cached
step recomputed) after checking that the data at its recorded URI still has
the recorded sha256 (else one line naming both digests, exit 2, unless
`--allow-data-change`), then prints the metrics next to the original's.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flows.cli import (
    add_config_arguments,
    link_rows,
    print_summary,
    run_command,
    run_in_flow,
    run_module_main,
)

if TYPE_CHECKING:  # the summary pulls in Prefect: keep `--help` instant
    from flows.config.train import TrainConfig
    from tasks.report import RunSummary


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flows.train", description=__doc__.split("\n")[0]
    )
    add_config_arguments(
        parser,
        config_help="YAML run config (default: embedded defaults)",
        example="model.params.C=0.5",
    )
    parser.add_argument(
        "--refresh-cache",
        action="store_true",
        help="recompute ingest and preprocess even when a cached result matches",
    )
    parser.add_argument(
        "--reproduce",
        metavar="MODEL/VERSION",
        help="re-run a registered version from its recorded config and compare the metrics",
    )
    parser.add_argument(
        "--allow-data-change",
        action="store_true",
        help="with --reproduce: train even if the data no longer has the recorded digest",
    )
    args = parser.parse_args(argv)
    if args.reproduce and (args.config or args.overrides):
        parser.error("--reproduce runs the recorded config: no --config or --set with it")
    if args.allow_data_change and not args.reproduce:
        parser.error("--allow-data-change goes with --reproduce")
    return args


def metric_rows(metrics: dict[str, float], primary: str) -> list[tuple[str, str]]:
    """The gate's metric and three key ones; the rest stay in MLflow and the report."""
    from libs.shown import key_metrics, metric_list, number

    rows = []
    if primary in metrics:
        rows.append(("Primary metric", f"{primary}={number(metrics[primary])}"))
    shown = key_metrics(metrics, primary)
    rest = len(metrics) - len(shown) - (primary in metrics)
    if shown:
        more = f" (+{rest} more in the MLflow run and the report)" if rest > 0 else ""
        rows.append(("Key metrics", metric_list(shown) + more))
    return rows


def summary_rows(summary: RunSummary, flow_run_url: str | None = None) -> list[tuple[str, str]]:
    rows = [
        ("MLflow run", f"{summary.run_id} (experiment '{summary.experiment}')"),
        *link_rows(summary.run_url, summary.ui_command, flow_run_url),
    ]
    if summary.version:
        rows.append(("Registered model", f"{summary.model_name} version {summary.version}"))
        rows.append(("Champion", f"{'yes' if summary.champion else 'no'} ({summary.gate_reason})"))
    else:
        rows.append(("Registered model", f"none ({summary.gate_reason})"))
    rows += metric_rows(summary.metrics, summary.primary_metric)
    rows += [
        ("Report", summary.report_uri),
        ("MLflow UI", summary.ui_command),
    ]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_schema:
        from flows.config.train import TrainConfig

        print(json.dumps(TrainConfig.model_json_schema(), indent=2))
        return 0

    plan = None
    checked: TrainConfig | None = None
    logged: dict[str, float] = {}

    def check() -> None:
        """A bad MLOPS_HOME, tracking URI or config fails here, before Prefect and MLflow
        are imported (a reproduction's recorded config is read from MLflow, in `body`)."""
        nonlocal checked
        from deployments.runtime import platform_settings

        platform_settings(for_run=True)
        if not args.reproduce:
            from flows.config.train import load_train_config

            checked = load_train_config(args.config, args.overrides)

    def body() -> tuple[RunSummary, str | None]:
        nonlocal plan
        from deployments.runtime import local_prefect, platform_settings, starting_local_prefect

        # A reproduction refused fails before a server starts; it reads the served
        # store in team mode.
        settings = platform_settings(served=bool(args.reproduce), for_run=True)
        if args.reproduce:
            from flows.reproduce import plan_reproduction

            plan = plan_reproduction(
                args.reproduce, settings, allow_data_change=args.allow_data_change
            )

        # A first run: the server starts while the libraries are imported and the
        # (new) tracking store is created.
        with starting_local_prefect() as server_starting:
            config = plan.config if plan else checked
            assert config is not None  # checked, or recorded
            from flows.runs.train import training_flow

            flow = training_flow(config.model.framework)
            if server_starting:
                from tasks.tracking import prepare_store

                prepare_store()
        with local_prefect(leave_warm_worker=True) as settings:
            result = run_in_flow(
                flow,
                config,
                parent_run_id=None,
                # A reproduction recomputes every step: a cached result proves nothing.
                refresh_cache=args.refresh_cache or plan is not None,
                settings=settings,
            )
            if plan is not None:  # compared as logged, as the original's were read
                from tasks.tracking import client_for

                run = client_for(settings).get_run(result[0].run_id)
                logged.update(run.data.metrics)
            return result

    def report(result: tuple[RunSummary, str | None]) -> None:
        print_summary("Training run complete.", summary_rows(*result))
        if plan is not None:
            from flows.reproduce import reproduction_rows

            metrics = logged or result[0].metrics
            print(reproduction_rows(plan, metrics, plan.config.digest()), flush=True)

    return run_command(body, report, what="training", verbose=args.verbose, check=check)


if __name__ == "__main__":
    sys.exit(run_module_main("flows.train", main))
