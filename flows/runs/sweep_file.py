"""The deployable sweep: a sweep config file plus overrides, or a study's next stage
(a deployment entrypoint: `flows/runs/sweep_file.py:sweep_file`)."""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow

from flows.config.stages import ARGUMENT
from flows.config.stages import next_stage as plan_next_stage
from flows.config.sweep import load_sweep_config
from flows.runs.sweep import run_sweep
from libs.errors import InputError
from libs.settings import check_environment
from tasks.sweep_records import find_sweep


@flow(name="sweep", version="1")
def sweep_file(
    config_file: str = "configs/sweeps/wine_rf_screening.yaml",
    overrides: list[str] | None = None,
    next_stage: Literal["fold_over", "augment", "next", "path", "gp"] | None = None,
    earlier: str | None = None,
    on: str | None = None,
    factors: list[str] | None = None,
    steps: int | None = None,
    runs: int | None = None,
    to: Literal["ccd", "optimal"] = "ccd",
    model: Literal["linear", "interactions", "quadratic"] | None = None,
) -> Any:
    """The deployable sweep (`sweep/<deployment>`): a sweep config file plus overrides.

    With `overrides: [mode=deployment, deployment_name=train/default]` every
    point becomes a run of the `train/default` deployment, so the workers of its
    pool share the sweep. With `next_stage` and `earlier` (a sweep id or parent
    run id) it runs the next stage of that sweep's study instead, as
    `python -m flows.sweep --fold-over/--augment/--next` does (`config_file`
    is then not read; `on`, `factors`, `steps`, `runs`, `to` and `model` as --on,
    --factors, --steps, --runs, --to and --model of --augment). The command
    line (`python -m flows.sweep`) runs `run_sweep` directly.
    """
    settings = check_environment()  # this flow run's process: its settings, read once
    if next_stage is None:
        return run_sweep(load_sweep_config(config_file, overrides or []), settings=settings)
    if not earlier:
        raise InputError(f"earlier: {ARGUMENT[next_stage]} needs the earlier sweep's id")
    found = find_sweep(settings, earlier, "earlier")
    config, _ = plan_next_stage(
        found,
        next_stage,
        on=on,
        factors=factors or (),
        overrides=overrides or (),
        steps=steps,
        runs=runs,
        to=to,
        model=model,
    )
    return run_sweep(config, settings=settings)


__all__ = ["sweep_file"]
