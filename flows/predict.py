"""`python -m flows.predict`: score a table with a registered model, with an input-drift check.

    python -m flows.predict --model NAME[@alias|/version] --input URI --output URI
                            [--chunk-rows N] [--drift-threshold X] [--experiment NAME]
                            [--no-progress] [-v]

The model comes from the MLflow registry (alias `champion` unless told
otherwise); input and output are CSV or Parquet, local or s3://. The input is
scored in chunks, so memory stays flat however large it is, and the output
appears only when every row is scored. Bad input (an unknown model, a missing
or mistyped column, an empty file) prints one line naming it and exits with
code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flows.cli import (
    add_output_arguments,
    link_rows,
    print_summary,
    run_command,
    run_in_flow,
    run_module_main,
)
from libs.errors import InputError

if TYPE_CHECKING:  # the summary pulls in Prefect and MLflow: a bad argument fails fast
    from flows.config.predict import PredictConfig
    from libs.scoring import BatchSummary
    from libs.settings import PlatformSettings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    # Imported here, not at the top: the warm worker's client imports this module
    # before it hands the command over, and pandas would cost it seconds.
    from libs.io.chunks import DEFAULT_CHUNK_ROWS

    parser = argparse.ArgumentParser(
        prog="python -m flows.predict", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", required=True, metavar="NAME[@alias|/version]")
    parser.add_argument("--input", required=True, metavar="URI", help="CSV or Parquet to score")
    parser.add_argument("--output", required=True, metavar="URI", help="CSV or Parquet to write")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"rows scored at a time (default {DEFAULT_CHUNK_ROWS})",
    )
    parser.add_argument(
        "--drift-threshold",
        type=float,
        default=None,
        metavar="X",
        help="flag a feature whose PSI exceeds X (default 0.2)",
    )
    parser.add_argument("--experiment", default="inference", help="MLflow experiment name")
    add_output_arguments(parser)
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> PredictConfig:
    from flows.config.predict import PredictConfig
    from libs.config import validate

    data: dict[str, Any] = {
        "model": args.model,
        "input": args.input,
        "output": args.output,
        "chunk_rows": args.chunk_rows,
        "experiment": args.experiment,
    }
    if args.drift_threshold is not None:
        data["drift"] = {"psi_threshold": args.drift_threshold}
    return validate(PredictConfig, data, "arguments")


def summary_rows(summary: BatchSummary, flow_run_url: str | None = None) -> list[tuple[str, str]]:
    return [
        ("Rows scored", f"{summary.rows} in {summary.seconds:.2f} s"),
        ("Output", summary.output_uri),
        (
            "Model",
            f"{summary.model_name} version {summary.model_version} (run {summary.model_run_id})",
        ),
        ("Input drift", summary.drift_line),
        *([("Drift report", summary.drift_report)] if summary.drift_report else []),
        ("MLflow run", f"{summary.run_id} (experiment '{summary.experiment}')"),
        *link_rows(summary.run_url, summary.ui_command, flow_run_url),
        ("MLflow UI", summary.ui_command),
    ]


def preflight(config: PredictConfig, settings: PlatformSettings | None = None) -> None:
    """Cheap checks before Prefect starts: the model reference resolves, the input exists.

    They run again inside the flow; here they make the common mistakes fail in
    a second, and before any local state (Prefect's database) is created.
    """
    from libs.settings import check_environment
    from tasks import tracking

    settings = check_environment(settings)
    name, alias, version = config.model_parts
    tracking.resolve_model_version(settings, name, alias=alias, version=version)
    check_files(config)


def check_files(config: PredictConfig) -> None:
    """The input and output are tables this platform reads and writes; a local input exists."""
    from libs import io as storage_io
    from libs.io import table_format

    for uri in (config.input, config.output):
        table_format(uri)
    if "://" not in config.input and not storage_io.exists(config.input):
        raise InputError(f"file not found: {config.input}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    checked: list[PredictConfig] = []

    def check() -> None:
        """The arguments, the settings and the files, before Prefect and MLflow are imported
        (the model reference is resolved in MLflow: in `body`)."""
        from deployments.runtime import platform_settings

        config = config_from_args(args)
        platform_settings(for_run=True)  # room on the home's disk for the run
        check_files(config)
        checked.append(config)

    def body() -> tuple[BatchSummary, str | None]:
        config = checked[0]
        from deployments.runtime import local_prefect, platform_settings

        # Team mode: the served store.
        preflight(config, platform_settings(served=True, for_run=True))
        from flows.runs.predict import batch_predict

        with local_prefect(leave_warm_worker=True) as settings:
            return run_in_flow(
                batch_predict, config, show_progress=not args.no_progress, settings=settings
            )

    return run_command(
        body,
        lambda s: print_summary("Batch scored.", summary_rows(*s)),
        what="scoring",
        verbose=args.verbose,
        check=check,
    )


__all__ = ["check_files", "config_from_args", "main", "preflight", "summary_rows"]


if __name__ == "__main__":
    sys.exit(run_module_main("flows.predict", main))
