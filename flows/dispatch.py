"""The deployable `train` flow: load a config by path or value, run the framework's flow.

Deployments and `prefect deployment run 'train/<name>'` use this flow; the
command line (`python -m flows.train`) calls the per-framework flow directly.
"""

from __future__ import annotations

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
    raise ValueError(f"model.framework: no training flow for '{resolved.model.framework}'")


__all__ = ["train"]
