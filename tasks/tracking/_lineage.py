"""Lineage in the store: what a run records about itself, and one version read back whole.

A run keeps its validated config (YAML and JSON) and its training environment
as artifacts; a registered version points at its run, its logged model, its
data and its flow run. `version_lineage` gathers all of it for one version
into plain values (`libs.lineage` renders them).
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from libs.lineage import (
    CONFIG_JSON,
    CONFIG_YAML,
    ENVIRONMENT_FILE,
    KEY_PACKAGES,
    config_documents,
    environment_record,
    point_name,
)
from libs.settings import PlatformSettings
from tasks.tracking._client import (
    MlflowClient,
    MlflowException,
    RunHandle,
    client_for,
    client_of,
    not_found,
    run_url,
)
from tasks.tracking._gate_record import GATE_RECORD, gate_fields, parse_gate_record
from tasks.tracking._registry import CHAMPION, ModelVersionRef


def log_run_record(run: RunHandle, config: dict[str, Any]) -> None:
    """The run's typed config (exactly what was validated) and its environment, as artifacts."""
    text_yaml, text_json = config_documents(config)
    client = client_of(run)
    client.log_text(run.run_id, text_yaml, CONFIG_YAML)
    client.log_text(run.run_id, text_json, CONFIG_JSON)
    client.log_text(run.run_id, json.dumps(environment_record(), indent=2) + "\n", ENVIRONMENT_FILE)


# Run tag -> version tag: what a version says about where it came from, one hop away.
_VERSION_LINEAGE = {
    "config_digest": "config_digest",
    "data.source_uri": "data.source_uri",
    "data.source_sha256": "data.source_sha256",
    "data.snapshot_sha256": "data.snapshot_sha256",
    "mlflow.source.git.commit": "git.commit",
    "git.dirty": "git.dirty",
    "prefect.flow_run_id": "prefect.flow_run_id",
}


def lineage_tags(run: RunHandle, model_uri: str) -> dict[str, str]:
    """The version's lineage tags, from its run's: config and data digests, commit, flow run
    and the logged model's id (also the version's `model_id` where the store keeps it)."""
    tags = client_of(run).get_run(run.run_id).data.tags
    out = {dst: tags[src] for src, dst in _VERSION_LINEAGE.items() if tags.get(src)}
    if model_uri.startswith("models:/m-"):
        out["model_id"] = model_uri.removeprefix("models:/").split("/")[0]
    return out


def point_run_name(
    settings: PlatformSettings, parent_run_id: str, params: dict[str, str]
) -> str | None:
    """A sweep point's run name from the factors its parent run lists (`factor.*` params):
    short names, values rounded to what each factor's range warrants."""
    names, space = _sweep_factors(settings.resolved_tracking_uri, parent_run_id)
    return point_name(list(names), params, space)


@functools.lru_cache(maxsize=64)
def _sweep_factors(tracking_uri: str, parent_run_id: str) -> tuple[tuple[str, ...], Any]:
    """The factors a sweep's parent run lists (read once per sweep, not per point)."""
    from libs.doe.names import logged_factors  # the DOE package: only a sweep point needs it

    parent = MlflowClient(tracking_uri).get_run(parent_run_id)
    names, space = logged_factors(parent.data.params)
    return tuple(names), space


def read_artifact(client: MlflowClient, run_id: str, path: str) -> str | None:
    """A run's text artifact, or None when the run has none at `path`."""
    with tempfile.TemporaryDirectory(prefix="lineage-") as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
        except (MlflowException, OSError):
            return None
        file = Path(local)
        return file.read_text(encoding="utf-8") if file.is_file() else None


def recorded_config(client: MlflowClient, run_id: str) -> dict[str, Any] | None:
    """The config a run was trained with, as validated (None for a run that kept none)."""
    text = read_artifact(client, run_id, CONFIG_JSON)
    if text is None:
        return None
    data = json.loads(text)
    return data if isinstance(data, dict) else None


def version_lineage(
    settings: PlatformSettings, ref: ModelVersionRef, prefect_ui_url: str | None
) -> dict[str, Any]:
    """Everything recorded about one version, as JSON-ready values.

    `prefect_ui_url` is today's Prefect UI (None when none answers): the flow
    run's link is built from it and the recorded flow-run id, since a link
    recorded at training time names the port of that day's server.
    """
    client = client_for(settings)
    mv = client.get_model_version(ref.name, ref.version)
    version_tags = dict(mv.tags or {})
    gate_json = parse_gate_record(
        read_artifact(client, mv.run_id, GATE_RECORD) if mv.run_id else None,
        ref.name,
        str(mv.version),
    )
    # The version's lineage: its few tags over what its run's `gate.json` keeps (versions
    # registered before `gate.json` kept it all as tags).
    tags = {**((gate_json or {}).get("lineage") or {}), **version_tags}
    registered = client.get_registered_model(ref.name)
    aliases = sorted(a for a, v in (registered.aliases or {}).items() if str(v) == str(mv.version))
    run = _run(client, mv.run_id)
    run_tags = dict(run.data.tags) if run else {}
    params = dict(run.data.params) if run else {}
    config = recorded_config(client, run.info.run_id) if run else None
    env_text = read_artifact(client, run.info.run_id, ENVIRONMENT_FILE) if run else None
    environment = json.loads(env_text) if env_text else {}
    packages = environment.get("packages") or {}
    experiment = client.get_experiment(run.info.experiment_id).name if run else None
    flow_run_id = tags.get("prefect.flow_run_id") or run_tags.get("prefect.flow_run_id")
    return {
        "model": {
            "name": ref.name,
            "version": str(mv.version),
            "aliases": aliases,
            "description": mv.description or None,
            "model_id": getattr(mv, "model_id", None) or tags.get("model_id"),
            "model_uri": f"models:/{ref.name}/{mv.version}",
            "source": mv.source,
        },
        "gate": gate_fields(gate_json, version_tags),
        "metrics": dict(run.data.metrics) if run else {},
        "data": {
            "source_uri": tags.get("data.source_uri") or run_tags.get("data.source_uri"),
            "source_sha256": tags.get("data.source_sha256") or run_tags.get("data.source_sha256"),
            "snapshot_uri": run_tags.get("data.snapshot_uri"),
            "snapshot_sha256": tags.get("data.snapshot_sha256")
            or run_tags.get("data.snapshot_sha256"),
            "rows": _int(run_tags.get("data.rows")),
        },
        "config": {
            "digest": tags.get("config_digest") or run_tags.get("config_digest"),
            "values": config if config is not None else params,
            "recorded": config is not None,
            "yaml": config_documents(config)[0] if config is not None else None,
            "artifact": f"runs:/{run.info.run_id}/{CONFIG_YAML}" if config is not None else None,
        },
        "code": {
            "commit": tags.get("git.commit") or run_tags.get("mlflow.source.git.commit"),
            "dirty": _bool(tags.get("git.dirty") or run_tags.get("git.dirty")),
            "source": run_tags.get("mlflow.source.name"),
            "user": run_tags.get("mlflow.user"),
            # Your own modules and third-party packages the logged model carries/pins.
            "model_code": run_tags.get("model.code"),
            "model_packages": run_tags.get("model.code_packages"),
        },
        "environment": {
            "python": environment.get("python"),
            "packages": {name: packages[name] for name in KEY_PACKAGES if name in packages},
            "artifact": f"runs:/{run.info.run_id}/{ENVIRONMENT_FILE}" if env_text and run else None,
        },
        "mlflow_run": {
            "id": run.info.run_id if run else None,
            "experiment_id": run.info.experiment_id if run else None,
            "experiment": experiment,
            "status": run.info.status if run else None,
            # "deleted": in the trash (`mlflow runs restore` brings it back, `mlflow gc` purges)
            "lifecycle": run.info.lifecycle_stage if run else None,
            "url": run_url(settings, run.info.experiment_id, run.info.run_id) if run else None,
        },
        "prefect_flow_run": {
            "id": flow_run_id,
            "name": run_tags.get("prefect.flow_run_name"),
            "url": f"{prefect_ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"
            if flow_run_id and prefect_ui_url
            else None,
            "note": None
            if prefect_ui_url or not flow_run_id
            else "no Prefect server answers now: start one to open the flow run",
        },
        "sweep": _sweep(client, tags, run_tags),
        "champion_history": champion_history(client, ref.name),
    }


def champion_history(client: MlflowClient, name: str) -> list[dict[str, str | None]]:
    """Which version held `champion` when, oldest first, from the tags `set_champion` writes.

    A version that holds the alias without the tags (moved by hand, or before
    the platform wrote them) is listed with an unknown start.
    """
    versions = list(client.search_model_versions(f"name = '{name}'"))
    try:
        current: str | None = str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        current = None
    entries = []
    for mv in versions:
        tags = mv.tags or {}
        if "champion.since" in tags or str(mv.version) == current:
            entries.append(
                {
                    "version": str(mv.version),
                    "since": tags.get("champion.since"),
                    "until": None if str(mv.version) == current else tags.get("champion.until"),
                    "replaced_by": None
                    if str(mv.version) == current
                    else tags.get("champion.replaced_by"),
                }
            )
    return sorted(entries, key=lambda e: (e["since"] or "", int(e["version"] or 0)))


def _run(client: MlflowClient, run_id: str | None) -> Any:
    if not run_id:
        return None
    try:
        return client.get_run(run_id)
    except MlflowException as exc:
        if not_found(exc):
            return None
        raise


def _sweep(
    client: MlflowClient, tags: dict[str, str], run_tags: dict[str, str]
) -> dict[str, Any] | None:
    parent_id = tags.get("sweep.parent_run_id") or (
        run_tags.get("mlflow.parentRunId") if run_tags.get("sweep.id") else None
    )
    if not parent_id:
        return None
    parent = _run(client, parent_id)
    return {
        "parent_run_id": parent_id,
        "sweep_id": run_tags.get("sweep.id")
        or (parent.data.tags.get("sweep.id") if parent else None),
        "design": parent.data.tags.get("sweep.design") if parent else None,
        "point": run_tags.get("mlflow.runName"),
    }


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _bool(text: str | None) -> bool | None:
    return {"true": True, "false": False}.get((text or "").lower())


__all__ = [
    "champion_history",
    "lineage_tags",
    "log_run_record",
    "point_run_name",
    "read_artifact",
    "recorded_config",
    "version_lineage",
]
