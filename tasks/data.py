"""Ingest and split: the data stage of a run."""

from __future__ import annotations

import hashlib
import io as _stdio
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage
from libs import io as storage_io
from libs.datasets import (
    DataRules,
    DataSpec,
    Split,
    SplitSpec,
    TaskType,
    check_data,
    check_target,
    infer_task,
    load_bundled,
    split_frame,
    subsample,
)
from libs.datasets.checks import check_columns
from libs.features import FeatureSpec, FeatureSpecError, resolve_columns
from libs.io.schema import check_table
from tasks._common import io_task
from tasks.caching import ingest_cache_key, source_options


@dataclass(frozen=True)
class Snapshot:
    """The raw table as ingested, where its snapshot lives and its content digest."""

    frame: pd.DataFrame
    name: str
    target: str
    task: TaskType
    uri: str
    digest: str
    # The user's own table: its URI (absolute for a local path) and the sha256 of its
    # bytes, in full; a bundled dataset has no file (`bundled:NAME`, no digest).
    source_uri: str = ""
    source_digest: str = ""

    @property
    def rows(self) -> int:
        return len(self.frame)


@io_task("ingest", cache_key_fn=ingest_cache_key, persist_result=True)
def ingest(
    spec: DataSpec,
    features: FeatureSpec,
    seed: int,
    storage: Storage,
    rules: DataRules | None = None,
) -> Snapshot:
    """Load the data, check it, and store a content-addressed Parquet snapshot.

    The checks run right after the read, before the snapshot is written and
    before any MLflow run exists: the target exists, no column is entirely
    null, listed feature columns exist with their types, no value is infinite,
    and (given the config's `rules`) the task the target implies is one the
    model and gate serve, with enough rows for the split.
    """
    source = spec.source
    options = source_options(storage, source)
    source_uri, source_digest = _source_identity(spec, options)
    frame = load_bundled(source) if spec.is_bundled else storage_io.read_table(source, options)
    frame = subsample(frame, spec.max_rows, seed)
    target = spec.target_column
    if len(frame.columns) and len(frame):  # an empty table is said so by check_table
        # a missing target or declared column: its config field and the closest name
        check_columns(
            frame,
            target,
            {
                "numeric": features.numeric.columns,
                "categorical": features.categorical.columns,
                "datetime": features.datetime.columns,
            },
            source,
        )
    check_table(
        frame,
        target=target,
        numeric=features.numeric.columns or (),
        categorical=features.categorical.columns or (),
        datetime=features.datetime.columns or (),
        source=source,
    )
    task_type = infer_task(spec, frame[target])
    check_target(frame[target], task_type, source)
    try:
        resolve_columns(features, frame.drop(columns=[target]))
    except FeatureSpecError as exc:
        raise FeatureSpecError(f"{source}: {exc}") from None
    check_data(frame, target, task_type, rules or DataRules(), source, sizes=rules is not None)

    buffer = _stdio.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    uri = storage_io.join_key(storage.root, f"snapshots/{spec.name}/{digest[:16]}.parquet")
    if not storage_io.exists(uri, storage.options):
        storage_io.write_bytes(data, uri, storage.options)
    return Snapshot(
        frame=frame,
        name=spec.name,
        target=target,
        task=task_type,
        uri=uri,
        digest=digest,
        source_uri=source_uri,
        source_digest=source_digest,
    )


def _source_identity(spec: DataSpec, options: dict[str, object] | None) -> tuple[str, str]:
    """Where the user's table is (absolute) and the sha256 of its bytes, read before the rows."""
    if spec.is_bundled:
        return f"bundled:{spec.source}", ""
    source = spec.source
    uri = source if "://" in source else str(Path(source).expanduser().resolve())
    return uri, storage_io.digest(source, options)


@task(name="split", cache_policy=NO_CACHE)
def split_data(snapshot: Snapshot, spec: SplitSpec) -> Split:
    """Seeded hold-out split, stratified for classification."""
    return split_frame(snapshot.frame, snapshot.target, snapshot.task, spec)


__all__ = ["Snapshot", "ingest", "split_data"]
