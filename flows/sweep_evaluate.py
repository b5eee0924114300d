"""`python -m flows.sweep --config FILE [--config FILE ...] --evaluate`: judge designs first.

    python -m flows.sweep_evaluate --config FILE [--config FILE ...] [--model quadratic]
        [--design '{kind: plackett_burman}' ...] [--effect-size 1 2] [--alpha 0.05]
        [--set key=value ...]

Prints, for each sweep config's design and side by side, what the design can
tell before any point is trained: runs, the model, power per term, variance
inflation, D-, A-, G- and I-efficiency, the fraction of design space and the
largest correlations of model terms with terms left out. Each `--design`
adds a column: the first config's factors under that design instead. Starts no Prefect
flow run and no MLflow run; a bad config prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from libs.errors import InputError

if TYPE_CHECKING:
    from libs.doe.evaluate import DesignEvaluation


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flows.sweep --evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("configs", nargs="*", metavar="FILE", help="sweep configs")
    parser.add_argument(
        "--config",
        dest="more",
        metavar="FILE",
        action="append",
        default=[],
        help="a sweep config (repeatable: designs side by side)",
    )
    parser.add_argument("--evaluate", action="store_true", help="(the flag that selects this)")
    # Flags of `python -m flows.sweep` that mean nothing here (nothing runs) but may be given.
    parser.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--design",
        dest="designs",
        metavar="YAML",
        action="append",
        default=[],
        help="another design for the first config's factors, e.g. '{kind: plackett_burman}' "
        "(repeatable: each adds a column)",
    )
    parser.add_argument(
        "--model",
        choices=["linear", "interactions", "quadratic"],
        default=None,
        help="the model to judge the designs for (default: the largest each design supports)",
    )
    parser.add_argument(
        "--effect-size",
        dest="effect_sizes",
        type=float,
        nargs="+",
        default=[1.0, 2.0],
        help="coefficients to detect, in noise standard deviations (default 1 2)",
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="test level (default 0.05)")
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one field of every config (repeatable)",
    )
    return parser.parse_args(argv)


def _label(path: str, taken: set[str]) -> str:
    label = Path(path).stem
    while label in taken:
        label += "'"
    taken.add(label)
    return label


def evaluate(args: argparse.Namespace) -> list[str]:
    from flows.config.sweep import load_sweep_config
    from libs.config import apply_override
    from libs.doe import generate_design
    from libs.doe.evaluate import evaluate_design, evaluation_lines

    paths = [*args.configs, *args.more]
    if not paths:
        raise InputError("--config: --evaluate needs at least one sweep config file")
    evaluations: dict[str, DesignEvaluation] = {}
    kinds: dict[str, str] = {}
    notes: list[str] = []
    taken: set[str] = set()
    runs = [(path, list(args.overrides), _label(path, taken)) for path in paths]
    for text in args.designs:
        override = f"design={text}"
        kind = str(apply_override({}, override).get("design", {}).get("kind", "design"))
        runs.append((paths[0], [*args.overrides, override], _label(kind, taken)))
    for path, overrides, label in runs:
        config = load_sweep_config(path, overrides)
        design = generate_design(config.space, config.design)
        try:
            evaluations[label] = evaluate_design(
                design.coded, config.space, args.model, args.effect_sizes, args.alpha
            )
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from exc
        kinds[label] = design.kind
        notes += [f"  {label}: {note}" for note in design.notes]
    lines = evaluation_lines(evaluations, kinds)
    return lines + (["", "Design notes (pure error, aliasing, stages)", *notes] if notes else [])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        lines = evaluate(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        print("\n".join(lines))
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
