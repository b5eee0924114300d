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
from typing import TYPE_CHECKING, Any

from flows.cli import add_config_arguments, run_command, run_module_main
from libs.errors import InputError

if TYPE_CHECKING:  # the config pulls in scikit-learn: keep `--help` instant
    from flows.config import TrainConfig


def training_flow(config: TrainConfig) -> Any:
    """The per-framework flow for the config (importing it loads Prefect, MLflow, the framework)."""
    if config.model.framework == "sklearn":
        from flows.sklearn_flow import train_sklearn

        return train_sklearn
    if config.model.framework == "tensorflow":
        from flows.tensorflow_flow import train_tensorflow

        return train_tensorflow
    raise InputError(f"model.framework: no training flow for '{config.model.framework}'")


def run_training(
    config: TrainConfig, *, refresh_cache: bool = False, parent_run_id: str | None = None
) -> Any:
    """Pick the per-framework flow from the config and run it (nested under a parent run)."""
    flow = training_flow(config)
    return flow(config, parent_run_id=parent_run_id, refresh_cache=refresh_cache)


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


def print_summary(summary: Any) -> None:
    lines = [
        "",
        "Training run complete.",
        f"  MLflow run:       {summary.run_id} (experiment '{summary.experiment}')",
        f"  Run page:         {summary.run_url}",
    ]
    if summary.version:
        lines.append(f"  Registered model: {summary.model_name} version {summary.version}")
        lines.append(
            f"  Champion:         {'yes' if summary.champion else 'no'} ({summary.gate_reason})"
        )
    else:
        lines.append(f"  Registered model: none ({summary.gate_reason})")
    metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(summary.metrics.items()))
    lines += [
        f"  Metrics:          {metrics}",
        f"  Report:           {summary.report_uri}",
        f"  MLflow UI:        {summary.ui_command}",
    ]
    print("\n".join(lines), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_schema:
        from flows.config import TrainConfig

        print(json.dumps(TrainConfig.model_json_schema(), indent=2))
        return 0

    def body() -> Any:
        from libs.settings import check_environment

        check_environment()  # a bad MLOPS_HOME or tracking URI fails before a server starts
        from deployments.runtime import local_prefect, starting_local_prefect

        # A first run: the server starts while the config is checked, the libraries
        # are imported and the (new) tracking store is created.
        with starting_local_prefect() as server_starting:
            from flows.config import load_train_config

            config = load_train_config(args.config, args.overrides)
            flow = training_flow(config)
            if server_starting:
                from tasks.tracking import prepare_store

                prepare_store()
        with local_prefect(leave_warm_worker=True):
            return flow(config, parent_run_id=None, refresh_cache=args.refresh_cache)

    return run_command(body, print_summary, what="training")


if __name__ == "__main__":
    sys.exit(run_module_main("flows.train", main))
