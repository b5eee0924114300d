"""A proxy that fails MLflow requests after the server did the work, or before it.

`reliability_support.MlflowFaultProxy` answers in place of the server. A
gateway that times out does worse: the server has created the version (or the
run), and the client hears 503. Rules here pick per request whether to pass it,
answer it without forwarding (`BEFORE`), or forward it and then answer with an
error (`AFTER`), so the client cannot tell whether the work was done.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BEFORE = "before"
AFTER = "after"

# (method, path) -> (when, status) to fail the request, or None to pass it through.
Rule = Callable[[str, str], "tuple[str, int] | None"]


@dataclass
class AfterWorkProxy:
    """HTTP proxy to an MLflow server at `upstream` (host, port), failing what `rules` pick."""

    upstream: tuple[str, int]
    rules: list[Rule] = field(default_factory=list)
    # (method, path, when, status) of every request that was failed
    injected: list[tuple[str, str, str, int]] = field(default_factory=list)
    # (method, path, upstream status) of every request the server saw
    forwarded: list[tuple[str, str, int]] = field(default_factory=list)
    url: str = ""

    def start(self) -> str:
        proxy = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer never has a body
                    self.wfile.write(payload)

            def _fault(self, status: int) -> None:
                error = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected fault"}
                payload = json.dumps(error).encode()
                self._send(status, [("Content-Type", "application/json")], payload)

            def _handle(self) -> None:
                body = self._body()
                with lock:
                    fault = next(
                        (f for rule in proxy.rules if (f := rule(self.command, self.path))), None
                    )
                    if fault is not None:
                        proxy.injected.append((self.command, self.path, *fault))
                if fault is not None and fault[0] == BEFORE:
                    self._fault(fault[1])
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                with lock:
                    proxy.forwarded.append((self.command, self.path, response.status))
                if fault is not None:  # AFTER: the server did it, the client hears an error
                    self._fault(fault[1])
                    return
                self._send(response.status, response.getheaders(), data)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, method: str, path_part: str) -> int:
        """How many such requests reached the server."""
        return sum(1 for m, p, _ in self.forwarded if m == method and path_part in p)


def after_work(method: str, path_part: str, status: int = 503, times: int | None = None) -> Rule:
    """Forward matching requests, then answer `status` (the first `times` ones; None: all)."""
    left = {"n": times}

    def rule(m: str, path: str) -> tuple[str, int] | None:
        if m != method or path_part not in path.split("?")[0]:
            return None
        if left["n"] is not None:
            if left["n"] <= 0:
                return None
            left["n"] -= 1
        return (AFTER, status)

    return rule


def reads_fail_after(
    trigger: tuple[str, str], times: int | None, *, path_part: str = "/api/"
) -> Rule:
    """503 for the first `times` GETs under `path_part` (None: all of them) once a request
    matching `trigger` (method, path part) has been seen.

    Counted, not timed: a test picks how many tries fail (all of one task try's HTTP
    tries, say), whatever the pauses between tries and the machine's speed."""
    state: dict[str, Any] = {"armed": False, "left": times}

    def rule(m: str, path: str) -> tuple[str, int] | None:
        if not state["armed"]:
            if m == trigger[0] and trigger[1] in path:
                state["armed"] = True
            return None
        if m != "GET" or path_part not in path:
            return None
        return _fail_counted(state)

    return rule


def alias_lookups_fail(times: int | None) -> Rule:
    """503 for the first `times` reads of a registered model's alias (None: all of them)."""
    state: dict[str, Any] = {"left": times}

    def rule(m: str, path: str) -> tuple[str, int] | None:
        if m != "GET" or "/registered-models/alias" not in path:
            return None
        return _fail_counted(state)

    return rule


def _fail_counted(state: dict[str, Any]) -> tuple[str, int] | None:
    """(BEFORE, 503) until `state["left"]` (None: never) is used up, counting it down.

    Rules run under the proxy's lock: concurrent requests count one by one."""
    if state["left"] is None:
        return (BEFORE, 503)
    if state["left"] <= 0:
        return None
    state["left"] -= 1
    return (BEFORE, 503)


__all__ = [
    "AFTER",
    "BEFORE",
    "AfterWorkProxy",
    "after_work",
    "alias_lookups_fail",
    "reads_fail_after",
]
