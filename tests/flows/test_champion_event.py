"""The gate announces a champion move as a Prefect event (`mlops.champion.moved`), the
event a deployment trigger reacts to (docs: how-to/serve-the-champion.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from tasks.register import CHAMPION_MOVED

pytestmark = pytest.mark.slow


def _events(api: str, model: str) -> list[dict[str, Any]]:
    body = {"filter": {"event": {"name": [CHAMPION_MOVED]}}, "limit": 50}
    found = httpx.post(f"{api}/events/filter", json=body, timeout=10).json()["events"]
    return [e for e in found if e["resource"].get("mlflow.model") == model]


def test_a_promotion_emits_the_champion_moved_event(
    flow_home: Path, model_name: str, local_prefect_api: str
) -> None:
    # given
    config = load_train_config(None, [f"tracking.model_name={model_name}"])
    # when: the first run is promoted
    summary = train_sklearn(config)
    # then: the server receives one event naming the model and the version
    assert summary.champion
    deadline = time.monotonic() + 30
    while not (events := _events(local_prefect_api, model_name)):
        assert time.monotonic() < deadline, "no mlops.champion.moved event arrived"
        time.sleep(1)
    assert events[0]["payload"] == {"model": model_name, "version": "1", "previous": ""}
    assert events[0]["resource"]["prefect.resource.id"] == f"mlflow.registered-model.{model_name}"
