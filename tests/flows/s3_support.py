"""A real S3-protocol server (moto's server mode) and a fault-injecting proxy in front of it.

The proxy forwards every request to the server unchanged, except the ones a
rule picks: those get a canned S3 error response, as a flaky or strict S3
endpoint would send. No client library is patched.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Rule = Callable[[str, str, dict[str, str]], "tuple[int, str, str] | None"]


@dataclass
class FaultProxy:
    """HTTP proxy to `upstream` (host, port); `rules` may answer a request instead."""

    upstream: tuple[str, int]
    rules: list[Rule] = field(default_factory=list)
    injected: list[tuple[str, str, int]] = field(default_factory=list)

    def start(self) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                for rule in list(proxy.rules):
                    answer = rule(self.command, self.path, headers)
                    if answer is not None:
                        status, code, message = answer
                        proxy.injected.append((self.command, self.path, status))
                        payload = (
                            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                            f"<Message>{message}</Message></Error>"
                        ).encode()
                        self.send_response(status)
                        self.send_header("Content-Type", "application/xml")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        if self.command != "HEAD":  # a HEAD answer has no body
                            self.wfile.write(payload)
                        return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def fail_first(n: int, method: str, path_part: str, status: int = 503) -> Rule:
    """Answer the first `n` matching requests with a transient error, then pass through."""
    left = {"n": n}

    def rule(m: str, path: str, headers: dict[str, str]) -> tuple[int, str, str] | None:
        if m == method and path_part in path and left["n"] > 0:
            left["n"] -= 1
            return (status, "SlowDown" if status == 503 else "InternalError", "injected fault")
        return None

    return rule


def reject_key(access_key: str) -> Rule:
    """Refuse every request signed with `access_key`, as S3 does for an unknown key."""

    def rule(m: str, path: str, headers: dict[str, str]) -> tuple[int, str, str] | None:
        auth = headers.get("Authorization", "")
        if f"Credential={access_key}/" in auth:
            return (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist")
        return None

    return rule
