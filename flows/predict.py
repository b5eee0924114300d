"""`python -m flows.predict`: score a table with a registered model, with an input-drift check.

    python -m flows.predict --model NAME[@alias|/version] --input URI --output URI
                            [--chunk-rows N] [--drift-threshold X] [--experiment NAME]

The model comes from the MLflow registry (alias `champion` unless told
otherwise); input and output are CSV or Parquet, local or s3://. The input is
scored in chunks, so memory stays flat however large it is, and the output
appears only when every row is scored. Bad input (an unknown model, a missing
or mistyped column, an empty file) prints one line naming it and exits with
code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.cli import run_command, run_module_main
from libs.config import check_experiment_name, validate
from libs.datasets.spec import SOURCE_SCHEMES
from libs.drift import DriftSpec
from libs.errors import InputError
from libs.io.chunks import DEFAULT_CHUNK_ROWS
from libs.settings import check_environment

# The registry alias a bare model name means (tasks.tracking.CHAMPION; not imported
# here, so that a bad argument fails without loading MLflow).
CHAMPION = "champion"

_MODEL_REF = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*?)(?:@(?P<alias>[A-Za-z0-9_\-]+)|/(?P<version>[0-9]+))?$"
)


class PredictConfig(BaseModel):
    """One batch: which model, which table in, where the scored table goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        ..., description="Registered model as NAME (its champion), NAME@alias or NAME/version."
    )
    input: str = Field(..., min_length=1, description="CSV or Parquet URI to score.")
    output: str = Field(..., min_length=1, description="CSV or Parquet URI for the predictions.")
    chunk_rows: int = Field(
        DEFAULT_CHUNK_ROWS, ge=1, description="Rows scored at a time (bounds memory)."
    )
    experiment: str = Field("inference", min_length=1, description="MLflow experiment name.")
    drift: DriftSpec = Field(default_factory=DriftSpec)

    @field_validator("model")
    @classmethod
    def _model_reference(cls, value: str) -> str:
        if not _MODEL_REF.match(value):
            raise ValueError("expected NAME, NAME@alias or NAME/version")
        return value

    @field_validator("experiment")
    @classmethod
    def _experiment_name(cls, value: str) -> str:
        return check_experiment_name(value)

    @field_validator("input", "output")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        """A local path, file:, s3: or memory:; web and FTP addresses are refused here, before
        they would be fetched with retries."""
        scheme = value.split("://", 1)[0].lower() if "://" in value else None
        if scheme is not None and scheme not in SOURCE_SCHEMES:
            raise ValueError(
                f"unsupported scheme '{scheme}://' in {value}: use a local path or "
                f"{', '.join(s + '://' for s in SOURCE_SCHEMES)}"
            )
        return value

    @property
    def model_parts(self) -> tuple[str, str | None, str | None]:
        """(name, alias, version); a bare name means its champion."""
        match = _MODEL_REF.match(self.model)
        assert match is not None  # the field pattern guarantees it
        alias, version = match["alias"], match["version"]
        return match["name"], (alias or (None if version else CHAMPION)), version

    def flat_params(self) -> dict[str, str]:
        params = {
            "model": self.model,
            "input": self.input,
            "output": self.output,
            "chunk_rows": str(self.chunk_rows),
        }
        params.update({f"drift.{k}": str(v) for k, v in self.drift.model_dump().items()})
        return params


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
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
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> PredictConfig:
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


def print_summary(summary: Any) -> None:
    lines = [
        "",
        "Batch scored.",
        f"  Rows scored:      {summary.rows} in {summary.seconds:.2f} s",
        f"  Output:           {summary.output_uri}",
        f"  Model:            {summary.model_name} version {summary.model_version} "
        f"(run {summary.model_run_id})",
        f"  Input drift:      {summary.drift_line}",
        f"  MLflow run:       {summary.run_id} (experiment '{summary.experiment}')",
        f"  Run page:         {summary.run_url}",
        f"  MLflow UI:        {summary.ui_command}",
    ]
    print("\n".join(lines), flush=True)


def preflight(config: PredictConfig) -> None:
    """Cheap checks before Prefect starts: the model reference resolves, the input exists.

    They run again inside the flow; here they make the common mistakes fail in
    a second, and before any local state (Prefect's database) is created.
    """
    from libs import io as storage_io
    from libs.io import table_format
    from tasks import tracking

    settings = check_environment()
    name, alias, version = config.model_parts
    tracking.resolve_model_version(settings, name, alias=alias, version=version)
    for uri in (config.input, config.output):
        table_format(uri)
    if "://" not in config.input and not storage_io.exists(config.input):
        raise InputError(f"file not found: {config.input}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> Any:
        config = config_from_args(args)
        preflight(config)
        from deployments.runtime import local_prefect
        from flows.predict_flow import batch_predict

        with local_prefect(leave_warm_worker=True):
            # A dict, not the object: run as `python -m`, this module is `__main__`, and
            # its PredictConfig is not the class the flow's parameter names.
            return batch_predict(config.model_dump(), show_progress=True)  # type: ignore[call-overload]

    return run_command(body, print_summary, what="scoring")


__all__ = ["PredictConfig", "config_from_args", "main", "preflight", "print_summary"]


if __name__ == "__main__":
    sys.exit(run_module_main("flows.predict", main))
