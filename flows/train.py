"""`python -m flows.train`: train, evaluate and register a model from a config.

    python -m flows.train [--config FILE] [--set dotted.key=value ...] [--print-schema]

Runs on embedded defaults with nothing configured: MLflow on SQLite, data in a
local folder, and a local Prefect server that the first run starts in the
background and later runs reuse (`make serve-stop` ends it;
MLOPS_PREFECT_SERVER=temporary uses Prefect's per-run temporary server
instead), all under `MLOPS_HOME` (default `.mlops/`). A bad config or bad data prints one line
naming the field or file and exits with code 2.
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
    return parser.parse_args(argv)


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
    metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(summary.metrics.items()))
    rows += [
        ("Metrics", metrics),
        ("Report", summary.report_uri),
        ("MLflow UI", summary.ui_command),
    ]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_schema:
        from flows.train_config import TrainConfig

        print(json.dumps(TrainConfig.model_json_schema(), indent=2))
        return 0

    def body() -> tuple[RunSummary, str | None]:
        from deployments.runtime import local_prefect, platform_settings, starting_local_prefect

        platform_settings()  # a bad MLOPS_HOME or tracking URI fails before a server starts

        # A first run: the server starts while the config is checked, the libraries
        # are imported and the (new) tracking store is created.
        with starting_local_prefect() as server_starting:
            from flows.train_config import load_train_config

            config = load_train_config(args.config, args.overrides)
            from flows.train_flow import training_flow

            flow = training_flow(config.model.framework)
            if server_starting:
                from tasks.tracking import prepare_store

                prepare_store()
        with local_prefect(leave_warm_worker=True) as settings:
            return run_in_flow(
                flow,
                config,
                parent_run_id=None,
                refresh_cache=args.refresh_cache,
                settings=settings,
            )

    return run_command(
        body,
        lambda s: print_summary("Training run complete.", summary_rows(*s)),
        what="training",
        verbose=args.verbose,
    )


if __name__ == "__main__":
    sys.exit(run_module_main("flows.train", main))
