"""Datasets as run inputs: their source URI, digest, schema and role."""

from __future__ import annotations

import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tasks.tracking._client import RunHandle, client_of, from_pandas

_SCHEMA_SAMPLE = 1000


@dataclass(frozen=True)
class DatasetRef:
    """A dataset to log as a run input; `frame` builds its rows only when they are needed."""

    frame: Callable[[], pd.DataFrame]
    name: str
    source: str
    context: str
    target: str
    digest: str | None = None


# Dataset entities by everything they are made of (digest, name, source, target): the
# points of a sweep log the same rows, and MLflow's schema and profile of them cost
# tens of milliseconds each time.
_ENTITIES: OrderedDict[tuple[str, str, str, str], Any] = OrderedDict()
_ENTITIES_LOCK = threading.Lock()
_ENTITIES_KEPT = 32


def _entity(ref: DatasetRef) -> Any:
    key = (ref.digest or "", ref.name, ref.source, ref.target)
    if ref.digest:
        with _ENTITIES_LOCK:
            if key in _ENTITIES:
                _ENTITIES.move_to_end(key)
                return _ENTITIES[key]
    frame = ref.frame()
    with warnings.catch_warnings():
        # MLflow warns that a local path matches its local source type twice; harmless.
        warnings.simplefilter("ignore", UserWarning)
        # ...and hints that integer columns cannot hold NaN; ours are checked at ingest.
        dataset = from_pandas(
            frame, source=ref.source, name=ref.name, targets=ref.target, digest=ref.digest
        )
        if len(frame) > _SCHEMA_SAMPLE:
            dataset.__dict__["schema"] = _sampled_schema(frame)  # its cached property
        entity = dataset._to_mlflow_entity()
    if ref.digest:
        with _ENTITIES_LOCK:
            _ENTITIES[key] = entity
            while len(_ENTITIES) > _ENTITIES_KEPT:
                _ENTITIES.popitem(last=False)
    return entity


def log_datasets(run: RunHandle, refs: Sequence[DatasetRef]) -> None:
    """Record datasets as run inputs in one call: source URI, digest, schema and role each.

    A dataset with a `digest` already logged by this process (another point of
    the sweep) reuses its entity, without building or profiling its rows again.
    """
    from mlflow.entities import DatasetInput, InputTag

    inputs = [
        DatasetInput(_entity(ref), tags=[InputTag("mlflow.data.context", ref.context)])
        for ref in refs
    ]
    client_of(run).log_inputs(run.run_id, datasets=inputs)


def log_dataset(
    run: RunHandle,
    frame: pd.DataFrame,
    *,
    name: str,
    source: str,
    context: str,
    target: str,
    digest: str | None = None,
) -> None:
    """Record a dataset as a run input: its source URI, digest, schema and role.

    `digest`, when the caller knows one (the snapshot's), spares hashing the rows.
    """
    log_datasets(
        run,
        [DatasetRef(lambda: frame, name, source, context, target, digest)],
    )


def _sampled_schema(frame: pd.DataFrame) -> Any:
    """The column types MLflow infers, from a sample; missing values from all rows.

    MLflow's own inference checks every value of every text column: tens of
    seconds on a million rows, for types that a thousand rows settle.
    """
    from mlflow.models import infer_signature
    from mlflow.types import ColSpec, Schema

    sample = frame.iloc[:: max(1, len(frame) // _SCHEMA_SAMPLE)].head(_SCHEMA_SAMPLE)
    inferred = infer_signature(sample).inputs
    missing = frame.isna().any()
    return Schema(
        [
            ColSpec(type=col.type, name=col.name, required=not bool(missing[col.name]))
            for col in inferred.inputs
        ]
    )


def log_input_source(
    run: RunHandle,
    sample: pd.DataFrame,
    *,
    name: str,
    source: str,
    digest: str,
    rows: int | None = None,
    context: str = "inference",
) -> None:
    """Record a stored table as a run input by its URI and content digest.

    The schema comes from `sample` (a first chunk); the digest is of the whole
    stored file, which `from_pandas` would only have of the rows in memory.
    """
    from mlflow.entities import Dataset, DatasetInput, InputTag

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        entity = from_pandas(sample, source=source, name=name)._to_mlflow_entity()
    profile = json.dumps({"num_rows": rows, "sha256": digest}) if rows is not None else None
    dataset = Dataset(
        name=entity.name,
        # MLflow keeps short digests (36 characters at most); the full one is in the profile.
        digest=digest[:16],
        source_type=entity.source_type,
        source=entity.source,
        schema=entity.schema,
        profile=profile or entity.profile,
    )
    client_of(run).log_inputs(
        run.run_id,
        datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", context)])],
    )


__all__ = ["log_dataset", "log_input_source"]
