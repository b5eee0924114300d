"""`--augment SWEEP --to optimal`: the stage's design, planned from a finished sweep.

Any earlier design (not a path or GP stage: those are refused before this)
is nested as `first`, so its runs regenerate exactly and are reused by their
config digests; `runs` D-optimal runs for `model` follow in a new block
(`libs.doe.augment`). The design is generated once here, so a budget below
what the model lacks, or constraints no new run can meet, fail in one line
naming the argument before the CLI starts anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from libs.doe import AugmentOptimal, generate_design
from libs.errors import InputError
from libs.studies import fmt_value

DEFAULT_MODEL = "quadratic"
# A generated design's field, as the command line names it.
_ARGUMENTS = {"design.runs": "--runs", "design.factors": "--factors", "model": "--model"}


def _argument(message: str) -> str:
    field, _, rest = message.partition(": ")
    if field in _ARGUMENTS:
        return f"{_ARGUMENTS[field]}: {rest}"
    return f"--augment: {message}"


def optimal_augmentation(
    config: Any,
    factors: Sequence[str],
    runs: int | None,
    model: str | None,
    best: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """The `augment_optimal` design (as config data) and what was decided, in words.

    `factors`: the model's factors (config keys; empty: every factor), the
    others held at `best` (the earlier stage's best levels) in the new runs.
    """
    if runs is None:
        raise InputError("--runs: --augment --to optimal needs the number of new runs")
    if config.design.kind == "augment_optimal":
        raise InputError(
            "--augment: the sweep is itself an optimal augmentation; augment the stage before "
            "it with all the runs you want (--runs), or fit a CCD or GP stage"
        )
    hold = {k: v for k, v in best.items() if factors and k not in factors}
    design = {
        "kind": "augment_optimal",
        "first": config.design.model_dump(mode="json"),
        "runs": runs,
        "model": model or DEFAULT_MODEL,
        "factors": list(factors) or None,
        "hold": hold,
        "seed": config.design.seed,
    }
    try:
        generated = generate_design(config.space, AugmentOptimal.model_validate(design))
    except InputError as exc:
        raise InputError(_argument(str(exc))) from None
    said = [generated.notes[0]]
    if hold:
        at = ", ".join(f"{k.rsplit('.', 1)[-1]}={fmt_value(v)}" for k, v in hold.items())
        said.append(f"the added runs hold {at} (the best levels so far)")
    return design, said


__all__ = ["DEFAULT_MODEL", "optimal_augmentation"]
