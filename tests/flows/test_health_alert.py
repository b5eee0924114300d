"""A failed health check of the scoring server reaches a person: the watch's check finds
it, emits `mlops.serving.unhealthy`, and the automation of `deployments.serving_alerts`
sends a notification through a webhook block to a receiver on loopback; the watch flow
runs the check before it reads the requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect_support import events_for, webhook_receiver

from deployments.runtime.servers import free_port
from deployments.serving_alerts import create_health_alert
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.watch_requests import watch_requests
from libs.settings import PlatformSettings
from tasks.watch import SERVING_REJECTED, SERVING_UNHEALTHY, announce_unhealthy, check_serving

pytestmark = pytest.mark.slow


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with webhook_receiver() as (url, received):
        yield f"{url}", received


def test_a_scoring_server_that_does_not_answer_sends_a_notification(
    receiver: tuple[str, list[dict[str, Any]]], model_name: str, local_prefect_api: str
) -> None:
    # given: a webhook notification block and the health alert for this model
    url, received = receiver
    block = CustomWebhookNotificationBlock(
        name="health-receiver",
        url=f"{url}/notify",
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
        allow_private_urls=True,
    )
    block_id = block.save(f"health-{model_name}"[:60], overwrite=True)
    assert isinstance(block_id, UUID)
    create_health_alert(model_name, block_id)
    time.sleep(2)  # the triggers service loads new automations every few seconds
    # when: the watch checks a scoring server where nothing listens
    down = f"http://127.0.0.1:{free_port(0)}"
    problem = check_serving.fn(down, "3")
    emitted = announce_unhealthy.fn(model_name, "3", down, problem)
    # then: the check names the failure, and the receiver is told which server and model
    assert problem is not None and problem.startswith("the scoring server did not answer")
    assert emitted
    deadline = time.monotonic() + 45
    while not received:
        assert time.monotonic() < deadline, "no notification arrived"
        time.sleep(1)
    assert model_name in received[0]["subject"]
    assert down in received[0]["text"] and "did not answer" in received[0]["text"]
    # and a server answering other than 200 is a problem too; none is no event
    assert check_serving.fn(url, "3") == "the scoring server answered 501"
    assert announce_unhealthy.fn(model_name, "3", down, None) is False


def test_the_watch_reports_a_server_that_is_down_before_it_reads_requests(
    flow_home: Path, model_name: str, local_prefect_api: str
) -> None:
    # given: a champion, no request logged, and no scoring server at the watched address
    train_sklearn(load_train_config(None, [f"tracking.model_name={model_name}"]))
    down = f"http://127.0.0.1:{free_port(0)}"
    # when: the watch runs with the health check
    quiet = watch_requests(model_name, settings=PlatformSettings(), health_url=down)
    assert quiet.rows == 0  # no request logged either: the run completes, measuring nothing
    # then: the failed check still reached the Prefect server as an event
    mine = events_for(local_prefect_api, SERVING_UNHEALTHY, model_name)
    assert mine[0]["payload"]["url"] == down
    assert mine[0]["payload"]["problem"].startswith("the scoring server did not answer")


def test_a_refused_champion_is_announced_where_a_prefect_server_is_known(
    tmp_path: Path, model_name: str, local_prefect_api: str
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.serve_model import _announcer

    # given: the scoring server's announcer, with this session's Prefect server known
    announce = _announcer(tmp_path, model_name)
    assert announce is not None
    # when: the follower refuses v2 (its smoke test failed) and keeps v1
    announce("2", "1", "NotFittedError: this model is not fitted yet")
    # then: the event reaches the server, naming both versions and why
    event = events_for(local_prefect_api, SERVING_REJECTED, model_name)[0]
    assert event["payload"] == {
        "model": model_name,
        "version": "2",
        "served": "1",
        "reason": "NotFittedError: this model is not fitted yet",
    }
    assert event["resource"]["prefect.resource.id"] == f"mlflow.registered-model.{model_name}"
    # and: with no Prefect server known (no URL, no `make serve` in the home), none is
    # started: the announcer is off
    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert _announcer(tmp_path, model_name) is None
