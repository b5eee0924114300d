"""What the platform's commands share: config arguments, the summary block, one way to end.

Every command exits 0 on success, 2 with one `error:` line for bad input
(config, data, URIs, credentials), 130 when interrupted, and 1 with one line
for anything else (`flows.cli_ending`). Importing this module is cheap:
`--help` stays instant, and a bad config is rejected before Prefect and MLflow
are imported.

The terminal has one output layer: the progress bar owns the bottom line, and
Prefect's and MLflow's log lines go to a file under `<MLOPS_HOME>/logs/`
(`flows.cli_logging`; the summary names it), or, with `-v/--verbose`, print
above the bar through the same console. A closed pipe (`--print-schema | head`)
ends the command quietly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from flows.cli_ending import closed_pipe, run_command
from flows.cli_logging import _home, _shown, active_log, api_logging, terminal_logging


def add_config_arguments(
    parser: argparse.ArgumentParser, *, config_help: str, example: str
) -> None:
    """`--config FILE`, repeatable `--set KEY=VALUE` and `--print-schema`."""
    parser.add_argument("--config", metavar="FILE", help=config_help)
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help=f"override one field, e.g. --set {example} (repeatable)",
    )
    parser.add_argument(
        "--print-schema", action="store_true", help="print the config's JSON schema and exit"
    )
    add_output_arguments(parser)


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The output flags every command takes alike: `--no-progress` and `-v/--verbose`.

    A command that draws no bar (training, lineage) takes `--no-progress` too, so one
    set of flags works everywhere (a script or CI passes the same ones to each).
    """
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="do not draw a progress bar (for logs and CI; a command without a bar accepts it)",
    )
    add_verbose_argument(parser)


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """`-v/--verbose`: Prefect's and MLflow's log lines on screen, above the bar."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show Prefect's and MLflow's log lines (by default they go to <MLOPS_HOME>/logs/)",
    )


def run_module_main(module: str, main: Callable[[], int]) -> int:
    """`python -m module`: handed to the warm worker when one matches, else run here.

    A reader that closes the pipe early (`--print-schema | head`) ends it with
    exit 0 and no traceback, as `cat` would.
    """
    from deployments.runtime.warm import run_warm

    try:
        code = run_warm(module, sys.argv[1:])
        result = main() if code is None else code
        sys.stdout.flush()
    except BrokenPipeError:
        return closed_pipe()
    return result


def print_summary(title: str, rows: Sequence[tuple[str, str] | str]) -> None:
    """The block every command ends with: a title, then `label: value` rows in one column.

    A row given as a plain string is printed as it is (indented like the others).
    A command running under `terminal_logging` adds a last row naming its log file.
    """
    log = active_log()
    if log is not None and log.exists():
        rows = [*rows, _log_row(rows, _shown(log))]
    lines = ["", title]
    for row in rows:
        lines.append(f"  {row}" if isinstance(row, str) else f"  {row[0] + ':':<18}{row[1]}")
    print("\n".join(lines), flush=True)


def _log_row(rows: Sequence[tuple[str, str] | str], path: str) -> tuple[str, str] | str:
    """The `Log:` row, aligned with rows the caller formatted itself (plain strings)."""
    if rows and all(isinstance(row, str) for row in rows):
        first = str(rows[0])
        label, _, value = first.partition(":")
        if value:
            width = len(label) + 1 + len(value) - len(value.lstrip())
            return f"{'Log:':<{width}}{path}"
    return ("Log", path)


def run_in_flow(flow_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """Run a flow; returns its result and the Prefect UI page of its flow run.

    The page only when a Prefect server outlives the command (a temporary
    server's pages are gone when it exits).
    """
    from prefect.settings import get_current_settings

    state = flow_fn(*args, return_state=True, **kwargs)
    result = state.result()  # a failed run raises its own exception here
    api = get_current_settings().api.url
    flow_run_id = state.state_details.flow_run_id
    url = f"{api.removesuffix('/api')}/runs/flow-run/{flow_run_id}" if api and flow_run_id else None
    return result, url


def live_links(run_url: str | None, flow_run_url: str | None) -> tuple[str | None, str | None]:
    """(the run page on the server that serves it now, the flow-run page if its server
    knows it); None for each that no server of ours answers for."""
    from deployments.runtime.servers import live_flow_run_url, live_run_url

    run = live_run_url(run_url, _home()) if run_url else None
    flow_run = live_flow_run_url(flow_run_url) if flow_run_url else None
    return run, flow_run


def link_rows(run_url: str, ui_command: str, flow_run_url: str | None) -> list[tuple[str, str]]:
    """The run's links: each opens what it names on our server, else the command that opens it.

    One place for every command (`deployments.runtime.links`): the run's page on
    the server that serves that run now (`make serve`'s, on whatever port it
    got), never on a port where something else answers.
    """
    from deployments.runtime.servers import live_flow_run_url, run_page

    home = _home()
    rows = [("Run page", run_page(run_url, ui_command, home))]
    if flow_run_url and live_flow_run_url(flow_run_url):
        rows.append(("Prefect run", flow_run_url))
    return rows


__all__ = [
    "active_log",
    "add_config_arguments",
    "add_output_arguments",
    "add_verbose_argument",
    "api_logging",
    "closed_pipe",
    "link_rows",
    "live_links",
    "print_summary",
    "run_command",
    "run_in_flow",
    "run_module_main",
    "terminal_logging",
]
