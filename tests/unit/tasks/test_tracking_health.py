"""The tracking server's health probe and a sweep's memory of finding it dead (issue 36)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tasks.tracking import check_tracking, take_tracking_down, tracking_answers, tracking_down


@pytest.fixture
def failing_server() -> Iterator[str]:
    """An HTTP server that answers every request with 503: alive, though unwell."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the socket is closed


def test_only_a_server_that_does_not_answer_counts_as_dead(failing_server: str) -> None:
    # given / when / then: any HTTP answer is alive, a refused connection is dead,
    # and a database store has no server to lose
    assert tracking_answers(failing_server)
    assert not tracking_answers(closed_port_url())
    assert tracking_answers("sqlite:////tmp/nowhere/mlflow.db")


def test_a_sweep_remembers_a_dead_server_until_the_flow_takes_it(failing_server: str) -> None:
    # given: two sweeps, one tracking to a live server, one to a dead one
    dead = closed_port_url()
    # when: a point of each fails
    assert check_tracking(failing_server, "parent-alive") is None
    line = check_tracking(dead, "parent-dead")
    # then: only the dead one is remembered, with a line naming the server
    assert line is not None and line.startswith(f"the MLflow tracking server at {dead} ")
    assert tracking_down("parent-alive") is None
    assert tracking_down("parent-dead") == line
    # and: the flow takes it once; a retried flow run of the same parent starts afresh
    assert take_tracking_down("parent-dead") == line
    assert tracking_down("parent-dead") is None
