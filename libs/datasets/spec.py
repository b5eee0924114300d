"""Which data to train on, and how to split it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

BUNDLED = ("iris", "wine", "breast_cancer", "diabetes", "digits")
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
# Where a data file can live: a local path (or file:), S3 (credentials from the storage
# block or the AWS environment), memory (tests). Web and FTP addresses are refused here:
# they would be fetched with retries only to fail on a login page or a firewall.
SOURCE_SCHEMES = ("file", "s3", "memory")
TaskType = Literal["classification", "regression"]


class DataSpec(BaseModel):
    """A bundled scikit-learn dataset by name, or a CSV/Parquet URI."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(
        "breast_cancer",
        description=f"A bundled dataset ({', '.join(BUNDLED)}) or a .csv/.parquet path or URI.",
    )
    target: str | None = Field(
        None, description="Target column; bundled datasets use 'target'. Required for files."
    )
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="'auto' infers it from the target column."
    )
    max_rows: int | None = Field(
        None, ge=10, description="Seeded random subsample of rows (for quick runs and tests)."
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value in BUNDLED:
            return value
        if not value.lower().endswith(TABLE_SUFFIXES):
            raise ValueError(
                f"unknown dataset '{value}': use one of {', '.join(BUNDLED)} "
                f"or a path ending in {', '.join(TABLE_SUFFIXES)}"
            )
        scheme = value.split("://", 1)[0].lower() if "://" in value else None
        if scheme is not None and scheme not in SOURCE_SCHEMES:
            raise ValueError(
                f"unsupported scheme '{scheme}://' in {value}: use a local path or "
                f"{', '.join(s + '://' for s in SOURCE_SCHEMES)} (download web files first)"
            )
        if not _stem(value).strip("."):
            raise ValueError(
                f"file name of {value} gives no dataset name (only dots before the "
                "extension); rename the file"
            )
        if "://" in value and ".." in value.split("://", 1)[1].split("/"):
            # A URI is an address, not a path to walk: '..' would escape its prefix.
            raise ValueError(f"URI must not contain '..' segments: {value}")
        local = _local_path(value)
        if local is not None and not local.is_file():
            raise ValueError(f"file not found: {value}")
        return value

    @model_validator(mode="after")
    def _target_for_files(self) -> DataSpec:
        if self.source not in BUNDLED and not self.target:
            raise ValueError("target: required when source is a file")
        return self

    @property
    def is_bundled(self) -> bool:
        return self.source in BUNDLED

    @property
    def target_column(self) -> str:
        return self.target or "target"

    @property
    def name(self) -> str:
        """A short, stable name for the dataset (used in model and dataset names)."""
        if self.is_bundled:
            return self.source
        return _stem(self.source)


class SplitSpec(BaseModel):
    """Hold-out split: seeded, stratified for classification where possible."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    test_size: float = Field(0.2, gt=0.0, lt=1.0, description="Fraction of rows held out.")
    seed: int = Field(42, ge=0, description="Seeds the split and every random estimator.")
    stratify: bool = Field(True, description="Stratify on the target for classification.")
    cv_folds: int | None = Field(
        None,
        ge=0,
        le=20,
        description="k-fold cross-validation on the training rows (stratified for "
        "classification, folds seeded by `seed`); the fold scores are logged as cv.<metric>.*. "
        "Default: off for a training run, 5 for a sweep's points; 0 or 1: off.",
    )
    train_seed: int | None = Field(
        None,
        ge=0,
        description="Seeds the random estimators; default: `seed`. A study's replicated runs "
        "change this one, so they share the split and differ only in training.",
    )

    @property
    def model_seed(self) -> int:
        """The seed every random estimator gets: `train_seed`, else the split's `seed`."""
        return self.seed if self.train_seed is None else self.train_seed

    @property
    def folds(self) -> int:
        """The number of cross-validation folds, 0 when cross-validation is off."""
        return self.cv_folds if self.cv_folds is not None and self.cv_folds >= 2 else 0

    def rows_key(self) -> str:
        """What decides which rows train and test (not the training seed nor the folds)."""
        return self.model_dump_json(include={"test_size", "seed", "stratify"})


def _stem(uri: str) -> str:
    return Path(uri.rstrip("/").split("/")[-1]).stem


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if "://" in uri:
        return None
    return Path(uri)


__all__ = ["BUNDLED", "SOURCE_SCHEMES", "TABLE_SUFFIXES", "DataSpec", "SplitSpec", "TaskType"]
