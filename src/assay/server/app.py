"""The app factory: `create_app(ServerConfig)` builds the FastAPI app `assay serve` runs.

Everything the routes share (store, dispatcher, live hub, metrics,
webhooks) is made in the lifespan from the config passed in, and reached
through `state_of(request)`; nothing is made at import time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from assay import __version__
from assay.dispatch import Dispatcher, InProcessPool, Suites
from assay.server import errors
from assay.server.config import ServerConfig
from assay.server.limits import BodyLimit
from assay.server.live import Hub
from assay.server.metrics import LatencyMiddleware, Metrics
from assay.server.notify import Notifier
from assay.server.routes import ROUTERS
from assay.server.state import AppState
from assay.store import Store, ingest

log = logging.getLogger("assay.server")

UPLOAD_PATHS = ("/api/v1/imports",)
INGEST_PATHS = ("/api/v1/ingest",)


def create_app(config: ServerConfig, *, dispatcher: Dispatcher | None = None) -> FastAPI:
    """The Assay server for `config`; `dispatcher` replaces the in-process pool."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await run_in_threadpool(_start, config, asyncio.get_running_loop(), dispatcher)
        app.state.assay = state
        await state.notifier.start()
        reaper = asyncio.get_running_loop().create_task(_end_abandoned_runs(state))
        try:
            yield
        finally:
            reaper.cancel()
            state.hub.stop_watching()
            # Runs cancelled by the shutdown are announced too: the dispatcher stops
            # first, then the notifier drains what it was given.
            await run_in_threadpool(state.dispatcher.close)
            await state.notifier.stop()
            await run_in_threadpool(state.store.close)

    app = FastAPI(
        title="Assay",
        version=__version__,
        summary="Test runs, their history, and live progress.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
        root_path=config.root_path,
    )
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(LatencyMiddleware, metrics=lambda: _metrics(app))
    app.add_middleware(BodyLimit, limit_for=lambda path: _limit(config, path))
    return app


async def _end_abandoned_runs(state: AppState) -> None:
    """End remote runs whose reporter went quiet (see `ingest.abandon_idle`), now and then."""
    idle = state.config.remote_idle
    while True:
        try:
            ended = await run_in_threadpool(
                ingest.abandon_idle, state.store, idle=idle, now=time.time()
            )
        except Exception:  # the database may be away for a while: try again later
            log.warning("could not end abandoned remote runs", exc_info=True)
            ended = []
        for run_id, reason in ended:
            state.run_finished(run_id, reason)
        await asyncio.sleep(min(60.0, idle / 4))


def _limit(config: ServerConfig, path: str) -> int:
    if path.startswith(UPLOAD_PATHS):
        return config.max_upload
    if path.startswith(INGEST_PATHS):
        return config.max_batch
    return config.max_body


def _metrics(app: FastAPI) -> Metrics | None:
    state: Any = getattr(app.state, "assay", None)
    return None if state is None else state.metrics


def _start(
    config: ServerConfig, loop: asyncio.AbstractEventLoop, dispatcher: Dispatcher | None
) -> AppState:
    settings = config.settings
    store = Store(settings.database, settings.state_dir / "artifacts", settings.project_name)
    store.engine  # noqa: B018 - opens and migrates the database now, not on the first request
    holder: dict[str, AppState] = {}

    def finished(run_id: int, reason: str | None) -> None:
        holder["state"].run_finished(run_id, reason)

    pool = None
    if dispatcher is None:
        pool = InProcessPool(
            settings,
            workers=config.workers,
            observe=lambda run_id: [holder["state"].hub.feed(run_id)],
            finished=finished,
        )
    active = dispatcher or pool
    assert active is not None
    metrics = Metrics(store, lambda: pool.queue_depth() if pool is not None else 0)
    hub = Hub(loop, keep=config.keep_finished, listener=metrics.observe)
    state = AppState(
        config=config,
        store=store,
        hub=hub,
        dispatcher=active,
        metrics=metrics,
        suites=Suites.of(settings),
        notifier=Notifier(store, config),
    )
    holder["state"] = state
    return state
