"""`python -m flows.watch_requests`: drift of a served model's logged requests, to MLflow.

    python -m flows.watch_requests --model NAME [--days 1] [--experiment request-drift]
                                   [--health-url http://127.0.0.1:5002]

Reads what `python -m flows.serve_model` sampled (`<storage>/requests/NAME/`)
over the last `--days` days, measures its drift against the champion's
training snapshot with the batch-scoring drift check (PSI per feature, KS for
numbers), and logs one MLflow run: metrics `drift.psi.<feature>`,
`drift.features_flagged`, the tag `drift.flagged` and the HTML drift report.
Flagged drift is also the Prefect event `mlops.drift.flagged`, which an
automation can turn into a notification. With `--health-url`, it first checks
the scoring server there (`/health`, and `/version` for a refused champion);
a failed check is the event `mlops.serving.unhealthy`.
Schedule it as a deployment to watch traffic. Nothing logged yet, or an unknown
model, is one line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from libs.scoring import ScoreResult


def main(argv: Sequence[str] | None = None) -> int:
    from flows.cli import run_command

    parser = argparse.ArgumentParser(
        prog="python -m flows.watch_requests", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", required=True, help="registered model name")
    parser.add_argument("--days", type=int, default=1, help="days of requests to read")
    parser.add_argument("--experiment", default="request-drift", help="MLflow experiment")
    parser.add_argument(
        "--health-url", default=None, help="scoring server to health-check (http://host:port)"
    )
    args = parser.parse_args(argv)

    def body() -> ScoreResult:
        from flows.runs.watch_requests import watch_requests
        from libs.errors import InputError

        if args.days < 1:
            raise InputError(f"--days: must be 1 or more, got {args.days}")
        if args.health_url is not None and not args.health_url.startswith(("http://", "https://")):
            raise InputError(f"--health-url: not an http(s) URL: {args.health_url!r}")
        return watch_requests(
            args.model, days=args.days, experiment=args.experiment, health_url=args.health_url
        )

    def report(result: ScoreResult) -> None:
        if result.rows == 0:
            print(
                f"{args.model}: no requests logged under {result.output_uri} in the last "
                f"{args.days} day(s); drift not measured"
            )
            return
        flagged = result.drift.flagged if result.drift is not None else None
        line = (
            "not measured (no training snapshot)"
            if flagged is None
            else (", ".join(flagged) or "none")
        )
        print(f"{args.model}: {result.rows} logged requests, drift flagged: {line}")

    return run_command(body, report, what="watch-requests")


if __name__ == "__main__":
    sys.exit(main())
