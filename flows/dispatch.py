"""The deployable `sweep` flow: load a sweep config by path, run the sweep.

Deployments and `prefect deployment run 'sweep/<name>'` use this flow; the
command line (`python -m flows.sweep`) runs the sweep directly. It belongs in
`flows/sweep_flow.py` beside the sweep it runs (as `train` sits in
`flows/train_flow.py`); it moves there with the sweep work in that module.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow


@flow(name="sweep", version="1")
def sweep(
    config_file: str = "configs/sweeps/wine_rf_screening.yaml",
    overrides: list[str] | None = None,
    next_stage: Literal["fold_over", "augment", "next"] | None = None,
    earlier: str | None = None,
    on: str | None = None,
    factors: list[str] | None = None,
) -> Any:
    """Run a DOE sweep from a sweep config file plus `--set`-style overrides.

    With `overrides: [mode=deployment, deployment_name=train/default]` every
    point becomes a run of the `train/default` deployment, so the workers of its
    pool share the sweep. With `next_stage` and `earlier` (a sweep id or parent
    run id) it runs the next stage of that sweep's study instead, as
    `python -m flows.sweep --fold-over/--augment/--next` does (`config_file`
    is then not read; `on` and `factors` as --on and --factors).
    """
    from flows.sweep_config import load_sweep_config
    from flows.sweep_flow import run_sweep

    if next_stage is None:
        return run_sweep(load_sweep_config(config_file, overrides or []))
    from flows.sweep_stages import ARGUMENT
    from flows.sweep_stages import next_stage as plan_next
    from libs.errors import InputError
    from libs.settings import PlatformSettings
    from tasks.sweep import find_sweep

    if not earlier:
        raise InputError(f"earlier: {ARGUMENT[next_stage]} needs the earlier sweep's id")
    found = find_sweep(PlatformSettings(), earlier, "earlier")
    config, _ = plan_next(
        found, next_stage, on=on, factors=factors or (), overrides=overrides or ()
    )
    return run_sweep(config)


__all__ = ["sweep"]
