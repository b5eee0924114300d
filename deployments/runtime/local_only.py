"""An ASGI guard that keeps a loopback server closed to web pages and foreign host names.

Prefect's server answers any web page by default (`access-control-allow-origin: *`):
a page the user opens could POST `/api/block_documents/filter` with
`include_secrets: true` and read a storage block's secret key, and a foreign
`Host` header (DNS rebinding) reaches it too. The local server the platform
starts serves only its own UI: requests whose `Origin` is not the server's own
origin get 403, requests whose `Host` is not a loopback name get 400, before
any route runs. Requests without an `Origin` header (the CLIs, workers, curl)
are not affected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# `prefect-in-memory`: the host name of the server's own in-process API client (its
# automations' actions call the API through an ASGI transport, never the network); a
# single-label name no public DNS answers, so no web page can rebind to it.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "prefect-in-memory"})


def own_origins(port: int | str, hosts: Iterable[str] = ("127.0.0.1", "localhost")) -> list[str]:
    """The origins of the server's own UI: its loopback names on its port."""
    return [f"http://{h}:{port}" for h in hosts]


def _host_name(value: str) -> str:
    """`127.0.0.1:4200` -> `127.0.0.1`; `[::1]:4200` -> `::1`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LocalOnly:
    """Refuse requests from other origins (403) or to non-loopback host names (400)."""

    def __init__(
        self, app: App, origins: Iterable[str], hosts: Iterable[str] = LOOPBACK_HOSTS
    ) -> None:
        self.app = app
        self.origins = frozenset(o.rstrip("/").lower() for o in origins)
        self.hosts = frozenset(h.lower() for h in hosts)

    def refusal(self, headers: dict[str, str]) -> tuple[int, str] | None:
        """(status, reason) for a request this server must not answer, else None."""
        host = headers.get("host")
        if host is not None and _host_name(host) not in self.hosts:
            return 400, "host not allowed: this server answers on loopback names only"
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/").lower() not in self.origins:
            return 403, "origin not allowed: this server answers only its own UI"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self.refusal(headers)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, reason = refused
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": reason})
            return
        body = reason.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


__all__ = ["LOOPBACK_HOSTS", "LocalOnly", "own_origins"]
