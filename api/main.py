"""The HTTP API: ``create_app(settings)`` builds it; ``uvicorn --factory api.main:app`` (what
``volmatch serve`` runs) builds it from the environment."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import Depends, FastAPI

from api import errors, openapi, web
from api.auth import Links, utcnow
from api.deps import known_query
from api.geocoding import Places
from api.limits import Budget
from api.live import Live
from api.routes import (
    accounts,
    activities,
    allocations,
    attendance,
    audit,
    bulk,
    calendars,
    calls,
    demand,
    feeds,
    health,
    learning,
    ledger,
    notifications,
    organisations,
    signups,
    volunteers,
)
from api.settings import Settings
from api.usecases.dispatch import Dispatcher, channels_from
from matcher.store.base import Store, load_taxonomy
from matcher.store.connect import open_store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

IMPORT_PATH = "/api/v1/import"


class BodyLimit:
    """Refuse request bodies over the limit with 413 before they are read into memory, whether
    or not they declare their length (the bulk import has its own, larger limit)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            self.settings.max_import_bytes if scope["path"] == IMPORT_PATH else self.settings.max_body_bytes
        )
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        if declared is None:
            # No declared length (chunked): read up to the limit before the app sees anything,
            # then replay what was read.
            buffered: list[Message] = []
            seen = 0
            while True:
                message = await receive()
                buffered.append(message)
                if message["type"] != "http.request":
                    break
                seen += len(message.get("body", b""))
                if seen > limit:
                    await _too_large(send, limit)
                    return
                if not message.get("more_body", False):
                    break

            async def replay() -> Message:
                return buffered.pop(0) if buffered else await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail":"the request body is over {limit} bytes; send less"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


GC_THRESHOLDS = (10_000, 20, 100)
"""Young collections every 10,000 net allocations rather than 700: the caches that grow under
load (plans, reasons, cards) then reach a full collection about every half hour instead of
every few seconds, each a pause that grows with them (measured: ``docs/benchmarks.md``)."""


def settle_heap() -> None:
    """Move what the process holds now (the index above all, ~10^5 objects per 10^5
    volunteers) out of the garbage collector's sight, and collect less often: a full
    collection walked all of it, a 160-230 ms pause of the worker every ten seconds or so
    under load. What is allocated later is still collected; anything frozen is freed by
    reference counting as usual."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _dispatcher(
    settings: Settings, store: Store, links: Links, clock: Callable[[], datetime]
) -> Dispatcher | None:
    """A dispatcher sending the outbox from this worker (and the waves of emergency calls),
    unless the settings leave it to ``volmatch notify`` (several at once never send twice).
    With no channel configured it still runs: the waves go to the inbox."""
    if not settings.notify:
        return None
    sender = Dispatcher(
        store,
        channels_from(settings),
        links,
        clock=lambda: clock().timestamp(),
        claim_s=settings.notify_claim_seconds,
    )
    sender.start()
    return sender


def create_app(settings: Settings | None = None, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """The app on the store ``settings.database_url`` names; ``clock`` says what time it is."""
    settings = settings or Settings()
    signing_key = settings.signing_key()  # fails fast on an unsafe configuration

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.database_url, query_timeout_s=settings.query_timeout_s)
        try:
            app.state.live = live = Live(store, load_taxonomy(), clock().date(), policy=settings.policy())
            live.follow()  # other workers' writes, applied in the background
            live.rebuilt = settle_heap
            settle_heap()
            app.state.dispatcher = sender = _dispatcher(settings, store, app.state.links, clock)
            try:
                yield
            finally:
                if sender is not None:
                    sender.stop()
                live.close()
        finally:
            store.close()

    app = FastAPI(
        title="volmatch",
        version="0.1.0",
        summary="Match volunteers and activities: ranked, explained recommendations both ways.",
        lifespan=lifespan,
        docs_url=None,  # served by api.web from local files: /docs works without the internet
        redoc_url=None,
        dependencies=[Depends(known_query)],
    )
    app.state.settings = settings
    app.state.signing_key = signing_key
    app.state.links = Links(signing_key, settings.public_url)
    app.state.channels = tuple(channels_from(settings))  # fails fast on a bad channel setting
    app.state.clock = clock
    app.state.tiers = settings.tiers()
    app.state.budget = Budget(settings.rate_per_s, settings.rate_burst)
    app.state.sign_ins = Budget(settings.sign_ins_per_minute / 60.0, settings.sign_ins_per_minute)
    app.state.sign_ins_by_address = Budget(
        settings.sign_ins_per_address_per_minute / 60.0, settings.sign_ins_per_address_per_minute
    )
    app.state.registrations = Budget(
        settings.registrations_per_hour / 3600.0, settings.registrations_per_hour
    )
    app.state.places = Places.from_settings(
        settings.geocoder, settings.geocoder_api_key, settings.geocoder_user_agent
    )
    errors.install(app)
    for module in (
        health,
        accounts,
        volunteers,
        activities,
        signups,
        attendance,
        ledger,
        calendars,
        notifications,
        calls,
        feeds,
        bulk,
        learning,
        demand,
        allocations,
        audit,
        organisations,
    ):
        app.include_router(module.router)
    web.install(app)
    openapi.install(app)
    app.add_middleware(BodyLimit, settings=settings)
    return app


def app() -> FastAPI:
    """The factory uvicorn calls (``--factory``)."""
    return create_app()
