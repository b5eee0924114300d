"""The batch-scoring config: which model, which table in, where the scored table goes."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.config import check_experiment_name
from libs.datasets.spec import SOURCE_SCHEMES
from libs.drift import DriftSpec
from libs.io.chunks import DEFAULT_CHUNK_ROWS

# The registry alias a bare model name means (tasks.tracking.CHAMPION; not imported
# here, so that a bad argument fails without loading MLflow).
CHAMPION = "champion"

_MODEL_REF = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*?)(?:@(?P<alias>[A-Za-z0-9_\-]+)|/(?P<version>[0-9]+))?$"
)


class PredictConfig(BaseModel):
    """One batch: which model, which table in, where the scored table goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        ..., description="Registered model as NAME (its champion), NAME@alias or NAME/version."
    )
    input: str = Field(..., min_length=1, description="CSV or Parquet URI to score.")
    output: str = Field(..., min_length=1, description="CSV or Parquet URI for the predictions.")
    chunk_rows: int = Field(
        DEFAULT_CHUNK_ROWS, ge=1, description="Rows scored at a time (bounds memory)."
    )
    experiment: str = Field("inference", min_length=1, description="MLflow experiment name.")
    drift: DriftSpec = Field(default_factory=DriftSpec)

    @field_validator("model")
    @classmethod
    def _model_reference(cls, value: str) -> str:
        if not _MODEL_REF.match(value):
            raise ValueError("expected NAME, NAME@alias or NAME/version")
        return value

    @field_validator("experiment")
    @classmethod
    def _experiment_name(cls, value: str) -> str:
        return check_experiment_name(value)

    @field_validator("input", "output")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        """A local path, file:, s3: or memory:; web and FTP addresses are refused here, before
        they would be fetched with retries."""
        scheme = value.split("://", 1)[0].lower() if "://" in value else None
        if scheme is not None and scheme not in SOURCE_SCHEMES:
            raise ValueError(
                f"unsupported scheme '{scheme}://' in {value}: use a local path or "
                f"{', '.join(s + '://' for s in SOURCE_SCHEMES)}"
            )
        if scheme is not None and ".." in re.split(r"[/\\]", value.split("://", 1)[1]):
            # As for data sources: a URI is an address, not a path to walk; '..' would
            # write (or read) outside the prefix it names.
            raise ValueError("URI must not contain '..' segments")
        return value

    @property
    def model_parts(self) -> tuple[str, str | None, str | None]:
        """(name, alias, version); a bare name means its champion."""
        match = _MODEL_REF.match(self.model)
        assert match is not None  # the field pattern guarantees it
        alias, version = match["alias"], match["version"]
        return match["name"], (alias or (None if version else CHAMPION)), version

    def flat_params(self) -> dict[str, str]:
        params = {
            "model": self.model,
            "input": self.input,
            "output": self.output,
            "chunk_rows": str(self.chunk_rows),
        }
        params.update({f"drift.{k}": str(v) for k, v in self.drift.model_dump().items()})
        return params


__all__ = ["CHAMPION", "PredictConfig"]
