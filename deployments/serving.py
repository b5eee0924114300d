"""The scoring server of `python -m flows.serve_model`: MLflow's scoring protocol for
`models:/<name>@champion`, following the alias as it moves.

    POST /invocations   rows in (dataframe_split, dataframe_records, instances, inputs, CSV),
                        {"predictions": [...]} out
    GET  /ping, /health the served version, 200 while one is loaded
    GET  /version       the served model, version and the versions served so far
    POST /reload        look at the alias now (what a deployment trigger or automation calls)
    POST /webhooks/mlflow  an MLflow registry webhook (HMAC-verified); an alias event on the
                        served model looks at the alias now (only with a webhook secret)

Every response carries `X-Model-Name` and `X-Model-Version`: the version that
scored it. A follower thread reads the alias every few seconds (and on
/reload); a new version is loaded beside the old one, smoke-tested on its input
example, and only then swapped in (`libs.serving.ModelSlot`); a version that
fails to load or to pass is tagged `serving.rejected`, announced (the Prefect
event `mlops.serving.rejected`, where a Prefect server is known) and never served.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from libs.serving import (
    ModelSlot,
    RequestError,
    RequestLog,
    ServedModel,
    parse_request,
    predictions_json,
    smoke_test,
)
from libs.serving.webhook import WebhookError, moves_alias, verify_delivery

log = logging.getLogger("mlops.serving")
CHAMPION_ALIAS = "champion"


@dataclass(frozen=True)
class Registry:
    """The three registry calls the follower makes (tasks.tracking.serving's, in production)."""

    champion_version: Callable[[], str | None]
    load: Callable[[str], ServedModel]
    reject: Callable[[str, str], None]
    # Told (version refused, version still served, why) after `reject`: the Prefect event.
    announce: Callable[[str, str, str], None] | None = None


@dataclass
class ChampionFollower:
    """Keeps the slot on the version `champion` points at, through load and smoke test."""

    slot: ModelSlot
    registry: Registry
    poll_seconds: float = 2.0
    rejected: dict[str, str] = field(default_factory=dict)
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def check(self) -> dict[str, Any]:
        """Read the alias once; switch when it names a new version that passes."""
        with self._lock:
            served = self.slot.current.version
            try:
                wanted = self.registry.champion_version()
            except Exception as exc:  # registry down: keep serving, say so
                self.last_error = f"could not read the champion: {type(exc).__name__}: {exc}"
                log.warning("%s", self.last_error)
                return self._state(served, False)
            self.last_error = None
            if wanted is None or wanted == served or wanted in self.rejected:
                return self._state(served, False)
            try:
                candidate = self.registry.load(wanted)
                smoke_test(candidate)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
                self.rejected[wanted] = reason
                log.error("v%s not served, v%s stays: %s", wanted, served, reason)
                try:
                    self.registry.reject(wanted, reason)
                except Exception as tag_exc:
                    log.warning("could not tag v%s as rejected: %s", wanted, tag_exc)
                if self.registry.announce is not None:
                    try:
                        self.registry.announce(wanted, served, reason)
                    except Exception as event_exc:  # no Prefect server: the tag still says it
                        log.warning("could not announce v%s's rejection: %s", wanted, event_exc)
                return self._state(served, False)
            old = self.slot.swap(candidate)
            log.warning("now serving v%s (was v%s)", candidate.version, old.version)
            return self._state(candidate.version, True)

    def _state(self, version: str, switched: bool) -> dict[str, Any]:
        return {
            "version": version,
            "switched": switched,
            "rejected": dict(self.rejected),
            "error": self.last_error,
        }

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="champion-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if not self._stop.is_set():
                self.check()


def _headers(served: ServedModel) -> dict[str, str]:
    return {"X-Model-Name": served.name, "X-Model-Version": served.version}


def _error(status: int, code: str, message: str, served: ServedModel) -> JSONResponse:
    return JSONResponse(
        {"error_code": code, "message": message}, status_code=status, headers=_headers(served)
    )


def _score(served: ServedModel, body: bytes, content_type: str) -> tuple[Any, Any]:
    frame = parse_request(body, content_type, served.columns)
    return frame, served.model.predict(frame)


def create_app(
    slot: ModelSlot,
    follower: ChampionFollower,
    request_log: RequestLog | None = None,
    webhook_secret: str | None = None,
) -> Starlette:
    """The ASGI app; the follower and request log start and stop with it."""

    async def invocations(request: Request) -> JSONResponse:
        served = slot.current  # this request scores with this version, whatever swaps meanwhile
        body = await request.body()
        try:
            frame, predictions = await run_in_threadpool(
                _score, served, body, request.headers.get("content-type", "")
            )
        except RequestError as exc:
            return _error(400, "BAD_REQUEST", str(exc), served)
        except (ValueError, TypeError, KeyError) as exc:  # the model refused these values
            return _error(400, "BAD_REQUEST", f"the model could not score the input: {exc}", served)
        if request_log is not None:
            request_log.offer(frame, predictions, served.version)
        return JSONResponse(predictions_json(predictions), headers=_headers(served))

    async def ping(request: Request) -> JSONResponse:
        served = slot.current
        return JSONResponse({"status": "ok", "version": served.version}, headers=_headers(served))

    async def version(request: Request) -> JSONResponse:
        served = slot.current
        return JSONResponse(
            {
                "model": served.name,
                "version": served.version,
                "run_id": served.run_id,
                "served": list(slot.history),
                "rejected": dict(follower.rejected),
            },
            headers=_headers(served),
        )

    async def reload(request: Request) -> JSONResponse:
        state = await run_in_threadpool(follower.check)
        return JSONResponse(state, headers=_headers(slot.current))

    async def webhook(request: Request) -> JSONResponse:
        served = slot.current
        if not webhook_secret:
            return _error(404, "NOT_FOUND", "webhooks are off: start with a webhook secret", served)
        body = await request.body()
        try:
            payload = verify_delivery(webhook_secret, dict(request.headers), body)
        except WebhookError as exc:
            log.warning("%s", exc)
            return _error(401, "UNAUTHENTICATED", str(exc), served)
        if not moves_alias(payload, served.name, CHAMPION_ALIAS):
            return JSONResponse({"ignored": True}, headers=_headers(served))
        state = await run_in_threadpool(follower.check)
        return JSONResponse(state, headers=_headers(slot.current))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        follower.start()
        if request_log is not None:
            request_log.start()
        try:
            yield
        finally:
            follower.stop()
            if request_log is not None:
                request_log.close()

    return Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
            Route("/version", version, methods=["GET"]),
            Route("/reload", reload, methods=["POST"]),
            Route("/webhooks/mlflow", webhook, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def run_server(app: Starlette, host: str, port: int) -> None:
    """Serve `app` with uvicorn until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


__all__ = ["ChampionFollower", "Registry", "create_app", "run_server"]
