"""The stage arguments of `python -m flows.sweep` (--fold-over, --augment, --next, ...).

`stage_request` checks them (one line naming the argument) before Prefect and
MLflow are imported; `stage_config` then plans the next stage's config from
the earlier sweep, read back from MLflow.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from libs.errors import InputError

if TYPE_CHECKING:
    from flows.config.sweep import SweepConfig
    from libs.settings import PlatformSettings


def stage_request(args: argparse.Namespace) -> tuple[str, str] | None:
    """(step, sweep) for --fold-over/--augment/--next, after checking the arguments."""
    given = [
        (step, ref)
        for step, ref in (
            ("fold_over", args.fold_over),
            ("augment", args.augment),
            ("gp" if args.model == "gp" else "next", args.next),
            ("path", args.path),
            ("confirm", args.confirm),
        )
        if ref is not None
    ]
    if len(given) > 1:
        raise InputError("--fold-over, --augment, --next, --path, --confirm: give one of them")
    if args.model is not None and args.next is None and args.augment is None:
        raise InputError("--model: only with --next (gp) or --augment --to optimal")
    if given and args.config:
        raise InputError(
            f"--config: not with {ARGS[given[0][0]]} (the earlier sweep's config is used)"
        )
    step = given[0][0] if given else None
    if args.on is not None and step != "fold_over":
        raise InputError("--on: only with --fold-over")
    if (args.to is not None or args.factors is not None) and step != "augment":
        raise InputError(f"--{'to' if args.to is not None else 'factors'}: only with --augment")
    if step == "augment":
        check_augment(args)
    elif args.model not in (None, "gp"):
        raise InputError(f"--model: {args.model!r} with --next: only gp")
    if args.runs is not None and step not in ("confirm", "gp", "augment"):
        raise InputError("--runs: only with --confirm, --next --model gp or --augment --to optimal")
    if args.runs is not None and args.runs < 1:
        raise InputError(f"--runs: at least 1, got {args.runs}")
    if args.steps is not None and step != "path":
        raise InputError("--steps: only with --path")
    if args.steps is not None and args.steps < 1:
        raise InputError(f"--steps: at least 1, got {args.steps}")
    if given and not given[0][1].strip():
        raise InputError(f"{ARGS[given[0][0]]}: a sweep id or parent run id is needed")
    return given[0] if given else None


AUGMENT_MODELS = ("linear", "interactions", "quadratic")


def check_augment(args: argparse.Namespace) -> None:
    """--to, --model and --runs of an augmentation: one line naming the argument."""
    if args.to is None:
        raise InputError("--to: --augment needs the design to reach (--to ccd or --to optimal)")
    if args.to not in ("ccd", "optimal"):
        raise InputError(f"--to: {args.to!r} is not a design to reach (ccd, optimal)")
    if args.to == "ccd" and (args.model is not None or args.runs is not None):
        raise InputError(
            f"--{'model' if args.model is not None else 'runs'}: only with --to optimal "
            "(a central composite design's runs follow from its factors)"
        )
    if args.to == "optimal":
        if args.model is not None and args.model not in AUGMENT_MODELS:
            raise InputError(f"--model: {args.model!r} is not one of {', '.join(AUGMENT_MODELS)}")
        if args.runs is None:
            raise InputError("--runs: --augment --to optimal needs the number of new runs")


ARGS = {
    "fold_over": "--fold-over",
    "augment": "--augment",
    "next": "--next",
    "gp": "--next",
    "path": "--path",
    "confirm": "--confirm",
}


def stage_config(
    args: argparse.Namespace, step: Any, ref: str, settings: PlatformSettings
) -> tuple[SweepConfig, list[str]]:
    """The next stage's config, planned from the earlier sweep read back from MLflow."""
    from flows.config.stages import lineage_ids, next_stage
    from tasks.sweep_records import find_sweep

    earlier = find_sweep(settings, ref, ARGS[step])
    # a GP stage models every run of the study: the earlier stages are read back too
    history = (
        [find_sweep(settings, i, ARGS[step]) for i in lineage_ids(earlier)] if step == "gp" else []
    )
    factors = [f.strip() for f in (args.factors or "").split(",") if f.strip()]
    return next_stage(
        earlier,
        step,
        on=args.on,
        factors=factors,
        overrides=args.overrides,  # type: ignore[arg-type]
        steps=args.steps,
        runs=args.runs,
        history=history,
        to=args.to or "ccd",
        model=args.model if step == "augment" else None,
    )
