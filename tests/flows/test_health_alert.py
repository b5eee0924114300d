"""A failed health check of the scoring server reaches a person: the watch's check finds
it, emits `mlops.serving.unhealthy`, and the automation of `deployments.serving_alerts`
sends a notification through a webhook block to a receiver on loopback."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from deployments.runtime.servers import free_port
from deployments.serving_alerts import create_health_alert
from tasks.watch import announce_unhealthy, check_serving

pytestmark = pytest.mark.slow


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on loopback; it answers POSTs only (a GET gets 501)."""
    received: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()


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
