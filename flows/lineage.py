"""`python -m flows.lineage`: where a registered model version came from.

    python -m flows.lineage MODEL[@alias|/version] [--json]
    python -m flows.lineage --compare MODEL/a MODEL/b [--json]
    (every command also takes --no-progress and -v/--verbose)

The first prints one version's lineage on one screen: its gate decision,
metrics, data (URI, the source file's sha256 and the snapshot's, rows), config
(digest and the config itself), code (commit, dirty tree), environment, the
MLflow run, the Prefect flow run (a link built from today's Prefect server),
the sweep it came from, and the model's champion history. A bare MODEL means
its champion. `--compare` prints what differs between two versions (config,
data digests, metrics, commits) as a table. `--json` prints the same for
machines. Reads the tracking store only: no Prefect server is started. An
unknown model, alias or version prints one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from flows.cli import add_output_arguments, run_command
from libs.errors import InputError


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flows.lineage", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "model", nargs="?", help="MODEL (its champion), MODEL@alias or MODEL/version"
    )
    parser.add_argument(
        "--compare", nargs=2, metavar=("A", "B"), help="two versions to compare, e.g. m/1 m/2"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_output_arguments(parser)  # the flags every command takes (lineage draws no bar)
    args = parser.parse_args(argv)
    if bool(args.model) == bool(args.compare):
        parser.error("give one MODEL[@alias|/version], or --compare A B")
    return args


def prefect_ui_url() -> str | None:
    """Today's Prefect UI: the configured API's, else the platform's local server if it runs."""
    api = os.environ.get("PREFECT_API_URL")
    if not api:
        from deployments.runtime import discover, platform_settings

        found = discover(platform_settings().home_dir)
        api = found.get("prefect_api_url") if found else None
    return api.rstrip("/").removesuffix("/api") if api else None


def lineage_of(
    reference: str, settings: Any, ui_url: str | None, *, need_run: str = ""
) -> dict[str, Any]:
    """The recorded lineage of one `NAME[@alias|/version]` (an unknown one is an InputError).

    `need_run` (the command's words, e.g. `--reproduce`): the version's MLflow run must
    still exist; one purged (deleted, then `mlflow gc`) took its config, metrics and
    artifacts with it, and is named as such. A run deleted but not purged (in MLflow's
    trash) is one line for either command, naming the command that restores it: its
    record would otherwise read as a live run the user meant to throw away.
    """
    from libs.lineage import parse_model_ref
    from tasks import tracking

    name, alias, version = parse_model_ref(reference)
    ref = tracking.resolve_model_version(settings, name, alias=alias, version=version)
    try:
        record = tracking.version_lineage(settings, ref, ui_url)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{need_run + ' ' if need_run else ''}{ref.name}/{ref.version}: "
            f"run {ref.run_id}: its recorded artifact "
            f"{_unreadable_artifact(settings, ref.run_id)} is unreadable "
            f"(not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    said = f"{need_run + ' ' if need_run else ''}{ref.name}/{ref.version}"
    if (record.get("mlflow_run") or {}).get("lifecycle") == "deleted":
        from libs.commands import restore_run_command

        raise InputError(
            f"{said}: its MLflow run {ref.run_id} was deleted (not purged yet): restore it "
            f"with {restore_run_command(settings.resolved_tracking_uri, ref.run_id)} "
            "(`mlflow gc` would purge it for good)"
        )
    if ref.run_id and not (record.get("mlflow_run") or {}).get("id"):
        if need_run:
            raise InputError(
                f"{said}: its MLflow run {ref.run_id} was deleted and purged (`mlflow gc`): "
                "its config, metrics and artifacts are gone; train the model again with "
                "python -m flows.train"
            )
        # Shown for what it is, not as a run with no id.
        purged = {"id": ref.run_id, "status": "deleted and purged by mlflow gc", "url": None}
        record = {**record, "mlflow_run": {**record.get("mlflow_run", {}), **purged}}
    return record


def _unreadable_artifact(settings: Any, run_id: str) -> str:
    """Which of a run's JSON records does not parse (the config, else the environment)."""
    from libs.lineage import CONFIG_JSON, ENVIRONMENT_FILE
    from tasks import tracking

    client = tracking.client_for(settings)
    for path in (CONFIG_JSON, ENVIRONMENT_FILE):
        text = tracking.read_artifact(client, run_id, path)
        try:
            json.loads(text or "{}")
        except json.JSONDecodeError:
            return path
    return "(a JSON record)"


def with_live_links(record: dict[str, Any], settings: Any) -> dict[str, Any]:
    """The record with links that open what they name (`deployments.runtime.links`).

    The MLflow run page on the server that serves the run now (`make serve`'s,
    on whatever port it got); when none does, `live` is false and `open_with`
    is the command that opens it. A Prefect link only when that server knows
    the flow run.
    """
    from flows.cli import live_links
    from libs.commands import mlflow_ui_command

    run = dict(record.get("mlflow_run") or {})
    flow_run = dict(record.get("prefect_flow_run") or {})
    live, live_flow_run = live_links(run.get("url"), flow_run.get("url"))
    if run.get("url"):
        run["url"], run["live"] = live or run["url"], live is not None
        if live is None:
            run["open_with"] = mlflow_ui_command(settings)
    if flow_run.get("url") and live_flow_run is None:
        flow_run["url"] = None
        flow_run["note"] = "no Prefect server that knows this flow run answers now"
    return {**record, "mlflow_run": run, "prefect_flow_run": flow_run}


def shown_links(record: dict[str, Any]) -> dict[str, Any]:
    """For the text view: a run page no server serves becomes the command that opens it."""
    run = record.get("mlflow_run") or {}
    if not run.get("open_with"):
        return record
    page = f"{run['open_with']}  # no MLflow UI serves this run now; this opens it at {run['url']}"
    return {**record, "mlflow_run": {**run, "url": page}}


def print_text(text: str) -> None:
    """Print; a reader that closed the pipe (`| head`) ends the output quietly."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def with_model_code(text: str, record: dict[str, Any]) -> str:
    """The rendered lineage with the model's own code (modules shipped with it, packages
    pinned for it) under its Code section, when it has any."""
    code = record.get("code") or {}
    rows = [
        (label, code.get(key))
        for label, key in (("Model code", "model_code"), ("Model packages", "model_packages"))
        if code.get(key)
    ]
    if not rows:
        return text
    lines = text.split("\n")
    at = next((i for i, line in enumerate(lines) if line.startswith("  Dirty tree:")), None)
    if at is None:
        at = len(lines) - 1
    extra = [f"  {label + ':':<18} {value}" for label, value in rows]
    return "\n".join([*lines[: at + 1], *extra, *lines[at + 1 :]])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> str:
        from deployments.runtime import platform_settings
        from libs.lineage import compare_rows, render_compare, render_show

        settings = platform_settings(served=True)  # team mode: the served store
        ui_url = prefect_ui_url()
        if args.compare:
            a, b = (
                with_live_links(lineage_of(ref, settings, ui_url), settings) for ref in args.compare
            )
            if args.json:
                rows = [
                    dict(zip(("section", "field", "a", "b"), r, strict=True))
                    for r in compare_rows(a, b)
                ]
                return json.dumps({"a": a, "b": b, "differences": rows}, indent=2, default=str)
            return render_compare(a, b)
        record = with_live_links(lineage_of(args.model, settings, ui_url), settings)
        if args.json:
            return json.dumps(record, indent=2, default=str)
        return with_model_code(render_show(shown_links(record)), record)

    return run_command(body, print_text, what="lineage", verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
