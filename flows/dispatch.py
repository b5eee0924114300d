"""The deployable `train` flow: load a config by path or value, run the framework's flow.

Deployments and `prefect deployment run 'train/<name>'` use this flow; the
command line (`python -m flows.train`) calls the per-framework flow directly.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.config import TrainConfig, load_train_config
from tasks.report import RunSummary


@flow(name="train", version="1")
def train(
    config: TrainConfig | None = None,
    config_file: str | None = "configs/default.yaml",
    overrides: list[str] | None = None,
    parent_run_id: str | None = None,
    refresh_cache: bool = False,
) -> RunSummary:
    """Train from `config` when given, else from `config_file` plus `overrides`.

    Paths are relative to the deployment's working directory (the checkout or
    the image's /app).
    """
    resolved = config or load_train_config(config_file, overrides or [])
    if resolved.model.framework == "sklearn":
        from flows.sklearn_flow import train_sklearn

        return train_sklearn(resolved, parent_run_id=parent_run_id, refresh_cache=refresh_cache)
    if resolved.model.framework == "tensorflow":
        from flows.tensorflow_flow import train_tensorflow

        return train_tensorflow(resolved, parent_run_id=parent_run_id, refresh_cache=refresh_cache)
    raise ValueError(f"model.framework: no training flow for '{resolved.model.framework}'")


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


__all__ = ["sweep", "train"]
