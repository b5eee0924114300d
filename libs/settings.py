"""Settings that are not per run: where state lives, where tracking goes.

Read from environment variables prefixed `MLOPS_` (or a `.env` file). Per-run
choices belong in the training config instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Local state folder, MLflow tracking store and data storage root."""

    model_config = SettingsConfigDict(env_prefix="MLOPS_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".mlops"), description="Folder holding all local state (git-ignored).")
    tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI; default MLFLOW_TRACKING_URI, else SQLite in home.",
    )
    artifact_root: str | None = Field(
        None, description="Where new experiments store artifacts; default <home>/mlartifacts."
    )
    storage: str | None = Field(
        None, description="Root URI for data snapshots and reports; default <home>/data."
    )
    storage_block: str | None = Field(
        None,
        description="Name of a Prefect S3Bucket block; when set, data, results and "
        "MLflow artifacts go to that bucket instead of the local folder.",
    )
    prefect_server: Literal["auto", "temporary"] = Field(
        "auto",
        description="With no PREFECT_API_URL: 'auto' starts one local Prefect server in the "
        "background on the first run and reuses it (make serve-stop ends it); 'temporary' "
        "uses Prefect's per-run temporary server.",
    )
    warm_worker: bool = Field(
        True,
        description="In 'auto' mode, leave a background process with Prefect, MLflow and "
        "scikit-learn imported after a run; later command-line runs are forked from it "
        "instead of importing them again (make serve-stop ends it).",
    )
    mlflow_ui_url: str = Field(
        "http://127.0.0.1:5000", description="Base URL of the MLflow UI, for links."
    )

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_tracking_uri(self) -> str:
        if self.tracking_uri:
            return self.tracking_uri
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return os.environ["MLFLOW_TRACKING_URI"]
        return f"sqlite:///{self.home_dir / 'mlflow.db'}"

    @property
    def resolved_artifact_root(self) -> str:
        return self.artifact_root or (self.home_dir / "mlartifacts").as_uri()

    def artifact_root_for(self, storage_root: str) -> str | None:
        """Where new experiments keep artifacts; None lets a tracking server decide.

        Beside the data when storage is remote, so any machine loads them; the
        server's own (proxied) artifact store when tracking goes to a server and
        data stays local; else the local folder.
        """
        if self.artifact_root:
            return self.artifact_root
        if "://" in storage_root and not storage_root.startswith("file://"):
            return f"{storage_root.rstrip('/')}/mlartifacts"
        if self.resolved_tracking_uri.startswith(("http://", "https://")):
            return None
        return self.resolved_artifact_root

    @property
    def storage_root(self) -> str:
        return self.storage or str(self.home_dir / "data")

    @property
    def prefect_home(self) -> Path:
        return self.home_dir / "prefect"

    def ui_command(self) -> str:
        """The command that opens the MLflow UI on this tracking store."""
        uri = self.resolved_tracking_uri
        if uri.startswith(("http://", "https://")):
            return f"open {uri}"
        return (
            f"mlflow ui --backend-store-uri {uri} "
            f"--default-artifact-root {self.resolved_artifact_root} --port 5000"
        )


__all__ = ["PlatformSettings"]
