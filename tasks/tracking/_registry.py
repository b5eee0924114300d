"""The model registry: keyed version creates, the champion alias and the gate's tags.

Every create is keyed on the run id and read back, never re-sent blindly; the
champion alias is read back after it moves; only "no such alias" means none.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libs.settings import PlatformSettings
from tasks.tracking._client import (
    MlflowClient,
    MlflowException,
    RunHandle,
    client_for,
    client_of,
    file_lock,
    not_found,
    post_once,
    rest_store,
)

CHAMPION = "champion"
GATE_PENDING = "pending"
GATE_DONE = "done"
GATE_ABANDONED = "abandoned"


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    value: float | None


@dataclass(frozen=True)
class ModelVersionRef:
    """One registered model version, resolved from `NAME`, `NAME@alias` or `NAME/version`."""

    name: str
    version: str
    run_id: str
    model_uri: str
    tracking_uri: str
    alias: str | None = None


@contextlib.contextmanager
def registry_lock(settings: PlatformSettings, name: str) -> Iterator[None]:
    """Serialise champion decisions for one model on this machine.

    Reading the champion, deciding and moving the alias must not interleave
    between concurrent runs, or a worse model could win the last write.
    """
    folder = settings.home_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / f"registry-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.lock"):
        yield


def _read_versions(client: MlflowClient, name: str, run_id: str) -> list[Any]:
    """The versions of `name` registered from `run_id`; a read error is an error."""
    return list(client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'"))


def existing_version(run: RunHandle, name: str) -> str | None:
    """The version already registered from this run, so a retry never adds another.

    A failing read raises: "could not look" must never pass for "none yet".
    """
    versions = sorted(int(v.version) for v in _read_versions(client_of(run), name, run.run_id))
    return str(versions[0]) if versions else None


def _keep_first_version(client: MlflowClient, name: str, found: list[Any]) -> str:
    """The run's first version; copies from a create retried out of our sight are deleted."""
    ordered = sorted(found, key=lambda v: int(v.version))
    for extra in ordered[1:]:
        client.delete_model_version(name, str(extra.version))
    return str(ordered[0].version)


def register_version(run: RunHandle, name: str, model_uri: str, tags: dict[str, str]) -> str:
    """Register the run's model under `name`, once per run; returns the version.

    The run id is the key: looked up first, the version is created by one POST
    that is never retried blindly, then read back by the key. Call it under
    `registry_lock`. The version starts `gate.state=pending` until the gate is done;
    while pending it names its process (`registered_by.*`, for clean-up after a kill).
    """
    client = client_of(run)
    found = _read_versions(client, name, run.run_id)
    if found:
        return _keep_first_version(client, name, found)
    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if "ALREADY_EXISTS" not in str(exc.error_code):
            raise
    all_tags = {
        **tags,
        "registered_by.host": socket.gethostname(),
        "registered_by.pid": str(os.getpid()),
        "gate.state": GATE_PENDING,
    }
    model_id = model_uri.removeprefix("models:/").split("/")[0]
    model_id = model_id if model_uri.startswith("models:/m-") else ""
    error: Exception | None = None
    try:
        store = rest_store(client._get_registry_client().store)
        if store is None:
            client.create_model_version(
                name, model_uri, run_id=run.run_id, tags=all_tags, model_id=model_id or None
            )
        else:
            body: dict[str, Any] = {
                "name": name,
                "source": model_uri,
                "run_id": run.run_id,
                "tags": [{"key": k, "value": str(v)} for k, v in all_tags.items()],
            }
            if model_id:
                body["model_id"] = model_id
            post_once(store, "/api/2.0/mlflow/model-versions/create", body)
    except Exception as exc:  # the answer may be lost while the version exists
        error = exc
    found = _read_versions(client, name, run.run_id)
    if not found:
        raise error or RuntimeError(f"{name}: the version of run {run.run_id} is not there")
    return _keep_first_version(client, name, found)


def champion(run: RunHandle, name: str, metric: str) -> Champion | None:
    """The current `champion` version and its run's value of `metric`; None if there is none.

    Only the registry saying "no such alias" means no champion: any other error
    raises, so a failing lookup can never let a worse model take the alias.
    """
    client = client_of(run)
    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as exc:
        if not_found(exc):
            return None
        raise
    value = None
    if mv.run_id:
        value = client.get_run(mv.run_id).data.metrics.get(metric)
    return Champion(version=str(mv.version), run_id=mv.run_id or "", value=value)


def tag_version(run: RunHandle, name: str, version: str, tags: dict[str, str]) -> None:
    client = client_of(run)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def set_champion(run: RunHandle, name: str, version: str) -> None:
    """Point `champion` at `version`, then read the alias back to be sure it moved.

    The move is recorded on both versions (`champion.since` on the new one,
    `champion.until` and `champion.replaced_by` on the one it replaces): the
    registry keeps no history of an alias, and `flows.lineage` reads it back
    from these tags. Called under `registry_lock`, so the tags and the alias agree.
    """
    import datetime as dt

    client = client_of(run)
    try:
        before: str | None = str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        before = None
    now_iso = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if before != str(version):
        client.set_model_version_tag(name, version, "champion.since", now_iso)
        client.set_model_version_tag(name, version, "champion.previous", before or "")
    client.set_registered_model_alias(name, CHAMPION, version)
    now = client.get_model_version_by_alias(name, CHAMPION)
    if str(now.version) != str(version):
        raise RuntimeError(f"{name}: champion reads back as v{now.version}, not v{version}")
    if before is not None and before != str(version):
        client.set_model_version_tag(name, before, "champion.until", now_iso)
        client.set_model_version_tag(name, before, "champion.replaced_by", str(version))


def describe_version(run: RunHandle, name: str, version: str, description: str) -> None:
    """The version's one-line description (the MLflow UI shows it in the versions table)."""
    client_of(run).update_model_version(name, version, description=description)


def version_tags(run: RunHandle, name: str, version: str) -> dict[str, str]:
    return dict(client_of(run).get_model_version(name, version).tags)


def resolve_model_version(
    settings: PlatformSettings, name: str, *, alias: str | None = None, version: str | None = None
) -> ModelVersionRef:
    """Resolve a registry reference to one version; an unknown name, alias or version is an
    `InputError` line. A local store that does not exist yet is not created to say so."""
    from libs.errors import InputError

    uri = settings.resolved_tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise InputError(f"model: no registered model '{name}' (no tracking store at {uri})")
    client = client_for(settings)
    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if not_found(exc):
            raise InputError(f"model: no registered model '{name}'") from None
        raise
    try:
        if version is not None:
            mv = client.get_model_version(name, version)
        else:
            mv = client.get_model_version_by_alias(name, alias or CHAMPION)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        what = f"version {version}" if version is not None else f"alias '{alias or CHAMPION}'"
        raise InputError(f"model: registered model '{name}' has no {what}") from None
    return ModelVersionRef(
        name=name,
        version=str(mv.version),
        run_id=mv.run_id or "",
        model_uri=f"models:/{name}/{mv.version}",
        tracking_uri=uri,
        alias=None if version is not None else (alias or CHAMPION),
    )


__all__ = [
    "CHAMPION",
    "GATE_ABANDONED",
    "GATE_DONE",
    "GATE_PENDING",
    "Champion",
    "ModelVersionRef",
    "champion",
    "describe_version",
    "existing_version",
    "register_version",
    "registry_lock",
    "resolve_model_version",
    "set_champion",
    "tag_version",
    "version_tags",
]
