"""Settings that are not per run: where state lives, where tracking goes.

Read from environment variables prefixed `MLOPS_` (or a `.env` file). Per-run
choices belong in the training config instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.errors import InputError

# Tracking stores MLflow can open: SQLAlchemy databases (with any driver), a
# tracking server, Databricks, or a local folder (a plain path or file:).
TRACKING_SCHEMES = frozenset(
    {"sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks", "file"}
)
# Storage roots libs.io reaches: a local folder (a plain path or file:), S3, memory (tests).
STORAGE_SCHEMES = frozenset({"file", "s3", "memory"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


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
        """The command that opens the MLflow UI on this tracking store, shell-quoted
        (`libs.commands`: a path holding `$(...)` is pasted as a path, never run)."""
        from libs.commands import mlflow_ui_command

        return mlflow_ui_command(self)


def _scheme(uri: str) -> str | None:
    """The URI's scheme without a driver (`postgresql+psycopg2` -> `postgresql`); None for paths.

    A one-letter scheme is a Windows drive, i.e. a path.
    """
    match = _SCHEME.match(uri)
    if match is None or len(match.group(1)) == 1:
        return None
    return match.group(1).split("+", 1)[0].lower()


def _check_folder(path: Path, field: str) -> None:
    """`path` is a folder or can become one: neither it nor an ancestor is a file."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                what = "is a file" if candidate == path else f"is under a file ({candidate})"
                raise InputError(f"{field}: {path} {what}; expected a folder")
            return


def check_environment(settings: PlatformSettings | None = None) -> PlatformSettings:
    """The settings, checked before any work: one InputError line naming the variable.

    A state folder that is a file, or a tracking URI or storage root whose
    scheme nothing here can open, would otherwise fail late (after retries, a
    started server or a written snapshot) with a traceback.
    """
    try:
        settings = settings or PlatformSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"MLOPS_{str(first['loc'][0]).upper()}" if first["loc"] else "MLOPS_*"
        raise InputError(f"{name}: {first['msg']}") from None
    _check_folder(settings.home_dir, "MLOPS_HOME")
    uri = settings.resolved_tracking_uri
    field = "MLOPS_TRACKING_URI" if settings.tracking_uri else "MLFLOW_TRACKING_URI"
    scheme = _scheme(uri)
    if scheme is not None and scheme not in TRACKING_SCHEMES:
        raise InputError(
            f"{field}: unsupported tracking URI scheme '{scheme}' in {uri!r} "
            f"(supported: {', '.join(sorted(TRACKING_SCHEMES))}, or a folder path)"
        )
    if settings.storage:
        scheme = _scheme(settings.storage)
        if scheme is not None and scheme not in STORAGE_SCHEMES:
            raise InputError(
                f"MLOPS_STORAGE: unsupported storage scheme '{scheme}' in {settings.storage!r} "
                f"(supported: {', '.join(sorted(STORAGE_SCHEMES))}, or a folder path)"
            )
        if scheme in (None, "file"):
            _check_folder(Path(settings.storage.removeprefix("file://")), "MLOPS_STORAGE")
    return settings


__all__ = ["STORAGE_SCHEMES", "TRACKING_SCHEMES", "PlatformSettings", "check_environment"]
