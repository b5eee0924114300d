"""What the platform's commands share: config arguments and one way to end.

Every command exits 0 on success, 2 with one `error:` line for bad input
(config, data, URIs, credentials), 130 when interrupted, and 1 with one line
for anything else. Importing this module is cheap: `--help` stays instant.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from libs.errors import InputError

T = TypeVar("T")


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


def run_module_main(module: str, main: Callable[[], int]) -> int:
    """`python -m module`: handed to the warm worker when one matches, else run here."""
    from deployments.runtime.warm import run_warm

    code = run_warm(module, sys.argv[1:])
    return main() if code is None else code


def print_summary(title: str, rows: Sequence[tuple[str, str] | str]) -> None:
    """The block every command ends with: a title, then `label: value` rows in one column.

    A row given as a plain string is printed as it is (indented like the others).
    """
    lines = ["", title]
    for row in rows:
        lines.append(f"  {row}" if isinstance(row, str) else f"  {row[0] + ':':<18}{row[1]}")
    print("\n".join(lines), flush=True)


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


def link_rows(run_url: str, ui_command: str, flow_run_url: str | None) -> list[tuple[str, str]]:
    """The run's links: each opens what it names, or says what to start first."""
    from deployments.runtime.servers import healthy

    base = run_url.split("/#/", 1)[0]
    if healthy(f"{base}/health"):
        rows = [("Run page", run_url)]
    else:
        rows = [("Run page", f"{run_url} (no MLflow UI there now; start it: {ui_command})")]
    if flow_run_url:
        rows.append(("Prefect run", flow_run_url))
    return rows


def run_command(body: Callable[[], T], on_success: Callable[[T], None], *, what: str) -> int:
    """Run `body`, report its outcome and return the exit code."""
    try:
        result = body()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"error: {what} failed: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    on_success(result)
    # Skip the interpreter's final garbage collection over the many objects that
    # Prefect, MLflow and scikit-learn leave behind: about a second at exit.
    gc.freeze()
    return 0


__all__ = [
    "add_config_arguments",
    "link_rows",
    "print_summary",
    "run_command",
    "run_in_flow",
    "run_module_main",
]
