"""The deployable `sweep` flow: load a sweep config by path, run the sweep.

Deployments and `prefect deployment run 'sweep/<name>'` use this flow; the
command line (`python -m flows.sweep`) runs the sweep directly. It belongs in
`flows/sweep_flow.py` beside the sweep it runs (as `train` sits in
`flows/train_flow.py`); it moves there with the sweep work in that module.
"""

from __future__ import annotations

from typing import Any

from prefect import flow


@flow(name="sweep", version="1")
def sweep(
    config_file: str = "configs/sweeps/wine_rf_screening.yaml",
    overrides: list[str] | None = None,
) -> Any:
    """Run a DOE sweep from a sweep config file plus `--set`-style overrides.

    With `overrides: [mode=deployment, deployment_name=train/default]` every
    point becomes a run of the `train/default` deployment, so the workers of its
    pool share the sweep.
    """
    from flows.sweep_config import load_sweep_config
    from flows.sweep_flow import run_sweep

    return run_sweep(load_sweep_config(config_file, overrides or []))


__all__ = ["sweep"]
