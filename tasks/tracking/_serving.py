"""The registry side of online serving: which version holds `champion`, loading one for
the server, recording a refusal on it, and rolling the alias back.

A rollback is a person's decision, not a run's: it moves the alias through the
same `set_champion` the gate uses (so the champion history records it the same
way), under the same registry lock, and records who, when and why on both versions.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from libs.errors import InputError
from libs.settings import PlatformSettings
from tasks.tracking._client import MlflowException, RunHandle, client_for, not_found
from tasks.tracking._lineage import champion_history
from tasks.tracking._queries import model_input_columns
from tasks.tracking._registry import CHAMPION, registry_lock, set_champion

if TYPE_CHECKING:  # every run imports tasks.tracking; only a server loads models to serve
    from libs.serving import ServedModel

REJECTED_TAG = "serving.rejected"
ROLLED_BACK_TAG = "champion.rolled_back"


@dataclass(frozen=True)
class Rollback:
    name: str
    from_version: str
    to_version: str
    by: str
    at: str
    reason: str


def champion_version(settings: PlatformSettings, name: str) -> str | None:
    """The version `champion` points at now; None when the alias is not set.

    Any error other than "no such alias" raises: the server keeps serving what it
    has and tries again on the next poll.
    """
    try:
        return str(client_for(settings).get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException as exc:
        if not_found(exc):
            return None
        raise


def load_served_model(settings: PlatformSettings, name: str, version: str) -> ServedModel:
    """Load one version for serving: the pyfunc model, its column signature and example."""
    import mlflow.pyfunc

    from libs.serving import ServedModel

    client = client_for(settings)
    mv = client.get_model_version(name, version)
    with warnings.catch_warnings():
        # cloudpickle's safety notice: the platform loads models it logged itself.
        warnings.simplefilter("ignore", UserWarning)
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    columns = model_input_columns(model)
    return ServedModel(
        name=name,
        version=str(version),
        model=model,
        columns=tuple(columns) if columns is not None else None,
        input_example=model.input_example,
        loaded_at=time.time(),
        run_id=mv.run_id or "",
    )


def record_rejection(settings: PlatformSettings, name: str, version: str, reason: str) -> None:
    """Say on the version why the server refused to serve it (`serving.rejected`)."""
    client = client_for(settings)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(name, version, REJECTED_TAG, reason[:4000])
    client.set_model_version_tag(name, version, "serving.rejected_at", now)


def rollback_champion(settings: PlatformSettings, name: str, *, by: str, reason: str) -> Rollback:
    """Move `champion` back to the previous champion that was neither rolled back nor refused.

    The previous champion comes from the champion history the gate's tags keep;
    the version left is tagged `champion.rolled_back` so a second rollback goes
    further back instead of returning to it.
    """
    client = client_for(settings)
    with registry_lock(settings, name):
        current = champion_version(settings, name)
        if current is None:
            raise InputError(f"model: registered model '{name}' has no champion to roll back")
        history = champion_history(client, name)
        tags = {
            str(mv.version): mv.tags or {} for mv in client.search_model_versions(f"name='{name}'")
        }
        earlier = [
            e["version"]
            for e in history
            if e["version"] != current
            and ROLLED_BACK_TAG not in tags.get(str(e["version"]), {})
            and REJECTED_TAG not in tags.get(str(e["version"]), {})
        ]
        if not earlier:
            raise InputError(
                f"model: '{name}' has no earlier champion to roll back to (champion is v{current})"
            )
        target = str(earlier[-1])
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle = RunHandle(
            run_id="", experiment_id="", tracking_uri=settings.resolved_tracking_uri, url=""
        )
        set_champion(handle, name, target)
        for key, value in (
            ("champion.rollback_from", current),
            ("champion.rollback_by", by),
            ("champion.rollback_at", now),
            ("champion.rollback_reason", reason),
        ):
            client.set_model_version_tag(name, target, key, value)
        client.set_model_version_tag(name, current, ROLLED_BACK_TAG, f"{now} by {by}: {reason}")
        client.update_model_version(
            name,
            target,
            description=f"champion again: rolled back from v{current} by {by} ({reason})",
        )
    return Rollback(name, current, target, by, now, reason)


__all__ = [
    "REJECTED_TAG",
    "ROLLED_BACK_TAG",
    "Rollback",
    "champion_version",
    "load_served_model",
    "record_rejection",
    "rollback_champion",
]
