"""Cache keys that work across runs: data digests, specs and library code, never DataFrames.

Prefect's default cache policy includes the run id, so it reuses nothing
between runs; hashing DataFrame inputs misses or fails. These keys name
exactly what a result depends on, so an unchanged config on unchanged data
with unchanged code skips the work, and any change recomputes it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from libs import io as storage_io
from libs.models.imports import code_digest as own_code_digest

T = TypeVar("T")
_ROOT = Path(__file__).resolve().parent.parent
# The code an ingest or preprocess result depends on.
_CODE = ("libs/datasets", "libs/io", "libs/features", "tasks/data.py", "tasks/preprocess.py")


def _hash_sources(h: Any, rels: tuple[str, ...]) -> Any:
    for rel in rels:
        path = _ROOT / rel
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            h.update(str(file.relative_to(_ROOT)).encode())
            h.update(file.read_bytes())
    return h


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 over the source of the libraries the cached tasks call."""
    return str(_hash_sources(hashlib.sha256(), _CODE).hexdigest())


def _canonical(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def digest_of(*parts: Any) -> str:
    text = json.dumps([_canonical(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def source_options(storage: Any, source: str) -> dict[str, Any] | None:
    """The storage block's fsspec options for an `s3://` source when the block is S3, else None
    (a local source needs none; an S3 source without a block uses the AWS environment)."""
    return storage.options if storage.is_remote and source.startswith("s3://") else None


def ingest_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """Source content (or bundled name), data spec, listed feature columns, the config's data
    rules, storage, code: a result is reused only where its checks were the same."""
    spec = parameters["spec"]
    storage = parameters["storage"]
    features = parameters["features"]
    if spec.is_bundled:
        source = f"bundled:{spec.source}"
    else:
        source = storage_io.digest(spec.source, source_options(storage, spec.source))
    seed = parameters["seed"] if spec.max_rows else None
    rules = parameters.get("rules")
    columns = [
        features.numeric.columns,
        features.categorical.columns,
        features.datetime.columns,
        features.drop,
    ]
    return "ingest-" + digest_of(source, spec, columns, rules, seed, storage.root, code_digest())


def preprocess_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """The data it was fitted on (snapshot digest and split), the feature spec, and the
    code: the platform's feature code and the source of your own feature steps, so
    editing a custom transformer fits the features again."""
    spec = parameters["spec"]
    custom = [step.transformer_class.rpartition(".")[0] for step in getattr(spec, "custom", [])]
    own = own_code_digest(custom) if custom else ""
    return "preprocess-" + digest_of(parameters["data_key"], spec, code_digest(), own)


# The code a fitted scikit-learn model depends on, beyond the features'.
_TRAIN_CODE = ("libs/models", "tasks/train.py")


@functools.lru_cache(maxsize=1)
def train_code_digest() -> str:
    """The features' code digest, this code and the versions of the libraries that fit."""
    from importlib import metadata

    h = _hash_sources(hashlib.sha256(code_digest().encode()), _TRAIN_CODE)
    for name in ("scikit-learn", "numpy", "scipy"):
        h.update(f"{name}=={metadata.version(name)}".encode())
    return h.hexdigest()


def train_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """The rows and features it was fitted on, the model spec, task and seed, the code."""
    return "train-" + digest_of(
        parameters["data_key"],
        parameters["spec"],
        parameters["task_type"],
        parameters["seed"],
        train_code_digest(),
    )


def cache_options(storage: Any, refresh: bool) -> dict[str, Any]:
    """Task options for the cached tasks: results persisted on the run's storage."""
    options: dict[str, Any] = {"refresh_cache": refresh}
    if storage.result_block is not None:
        options["result_storage"] = storage.result_block
    return options


# --- one sweep's shared inputs -------------------------------------------------------
# A sweep's lean points share data and features: the first point in a process runs
# ingest, split and preprocess (as task runs, through the cache above); the others
# take the results from memory, without a task run each. The sweep clears them when
# it ends, so a later sweep (or a changed source) computes them again.
_SHARED: OrderedDict[str, Any] = OrderedDict()
_SHARED_LOCKS: dict[str, threading.Lock] = {}
_SHARED_GUARD = threading.Lock()
_SHARED_KEPT = 2


def shared(key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per `key` in this process until `clear_shared`; callers in other
    threads wait for the first one. An exception is not kept: the next caller tries again."""
    with _SHARED_GUARD:
        lock = _SHARED_LOCKS.setdefault(key, threading.Lock())
    with lock:
        with _SHARED_GUARD:
            if key in _SHARED:
                _SHARED.move_to_end(key)
                return cast(T, _SHARED[key])
        value = compute()
        with _SHARED_GUARD:
            _SHARED[key] = value
            while len(_SHARED) > _SHARED_KEPT:
                _SHARED.popitem(last=False)
        return value


def clear_shared() -> None:
    """Forget the shared inputs (a sweep's end)."""
    with _SHARED_GUARD:
        _SHARED.clear()
        _SHARED_LOCKS.clear()


__all__ = [
    "cache_options",
    "clear_shared",
    "code_digest",
    "digest_of",
    "ingest_cache_key",
    "preprocess_cache_key",
    "shared",
    "source_options",
    "train_cache_key",
    "train_code_digest",
]
