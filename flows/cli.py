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
from typing import TypeVar

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


__all__ = ["add_config_arguments", "print_summary", "run_command", "run_module_main"]
