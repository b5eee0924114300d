"""The model and the input a batch scoring reads: resolve and load the model, check the input.

Both run before any MLflow run or output file exists, so a wrong file or a renamed
column ends with one line and nothing half written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage
from libs import io as storage_io
from libs.errors import InputError
from libs.io import table_format
from libs.scoring import ColumnSpec, conform_to_signature, csv_dtypes, stamp_predictions
from libs.settings import PlatformSettings
from tasks import tracking
from tasks._common import io_task

# Rows read to check the input against the signature before any run or output exists.
PROBE_ROWS = 1_000
# Rows a chunk of the whole-input check holds (one pass before the run, memory bounded).
SCAN_ROWS = 50_000


def options_for(storage: Storage, uri: str) -> dict[str, Any] | None:
    """The storage block's fsspec options for s3:// URIs, none for local paths."""
    return storage.options if storage.is_remote and uri.startswith("s3://") else None


@dataclass(frozen=True)
class LoadedModel:
    """A registry version, its pyfunc model and its named input columns (None: unchecked)."""

    ref: tracking.ModelVersionRef
    model: Any
    columns: list[ColumnSpec] | None

    @property
    def identity(self) -> dict[str, str]:
        """The columns (and Parquet metadata) that say which model made a prediction."""
        return {
            "model_name": self.ref.name,
            "model_version": self.ref.version,
            "model_run_id": self.ref.run_id,
        }

    def conform(self, chunk: pd.DataFrame, source: str) -> pd.DataFrame:
        if self.columns is None:
            return chunk
        return conform_to_signature(chunk, self.columns, source)

    def predict(self, chunk: pd.DataFrame) -> Any:
        if self.columns is None:
            return self.model.predict(chunk)
        present = [c.name for c in self.columns if c.name in chunk.columns]
        return self.model.predict(chunk[present])


@io_task("load-model", cache_policy=NO_CACHE)
def load_model(
    settings: PlatformSettings, name: str, alias: str | None, version: str | None
) -> LoadedModel:
    """Resolve `name@alias` or `name/version` in the registry and load it as pyfunc."""
    ref = tracking.resolve_model_version(settings, name, alias=alias, version=version)
    model = tracking.load_pyfunc_model(ref)
    return LoadedModel(ref=ref, model=model, columns=tracking.model_input_columns(model))


@dataclass(frozen=True)
class InputProbe:
    """The input's first rows (checked against the signature), digest and row count if known."""

    uri: str
    sample: pd.DataFrame
    digest: str
    rows: int | None


@io_task("check-input", cache_policy=NO_CACHE)
def check_input(
    loaded: LoadedModel, input_uri: str, output_uri: str, storage: Storage
) -> InputProbe:
    """Check the input's first rows against the signature and the output URI, writing nothing.

    Later chunks are checked again as they are scored; this catches the usual
    mistakes (a wrong file, a renamed column) before a run or a file exists.
    """
    table_format(output_uri)
    if output_uri.rstrip("/") == input_uri.rstrip("/"):
        raise InputError(f"output: {output_uri} is the input; choose another URI")
    options = options_for(storage, input_uri)
    dtype = csv_dtypes(loaded.columns or [])
    chunks = storage_io.iter_table(input_uri, PROBE_ROWS, options, dtype=dtype)
    try:
        sample = next(chunks)
    finally:
        chunks.close()
    sample = loaded.conform(sample, input_uri)
    stamp_predictions(sample.head(0), [], loaded.identity)  # reserved output columns
    rows = _checked_rows(loaded, input_uri, options, dtype)
    return InputProbe(
        uri=input_uri,
        sample=sample,
        digest=storage_io.digest(input_uri, options),
        rows=rows,  # the bar's total
    )


def _checked_rows(
    loaded: LoadedModel, uri: str, options: dict[str, Any] | None, dtype: dict[str, Any]
) -> int:
    """Every row conforms to the signature and holds no infinite model input: the rows.

    Scoring refuses what training refuses (`libs.datasets.checks.check_finite`),
    in one pass before any run or output exists; found mid-batch, the model
    would fail with a FAILED run. The pass also counts the rows (the bar's total).
    """
    rows = 0
    for chunk in storage_io.iter_table(uri, SCAN_ROWS, options, dtype=dtype):
        chunk = loaded.conform(chunk, f"{uri} (rows {rows + 1}-{rows + len(chunk)})")
        used = [c.name for c in loaded.columns] if loaded.columns else list(chunk.columns)
        for column in [c for c in used if c in chunk.columns]:
            series = chunk[column]
            if not pd.api.types.is_float_dtype(series.dtype):
                continue
            infinite = np.isinf(series.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                first = rows + int(np.argmax(infinite)) + 1
                raise InputError(
                    f"{uri}: column '{column}' has infinite values (first at row {first}); "
                    "the model cannot score them (training refuses them too): replace them"
                )
        rows += len(chunk)
    return rows


__all__ = ["PROBE_ROWS", "InputProbe", "LoadedModel", "check_input", "load_model", "options_for"]
