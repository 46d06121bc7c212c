"""What the app's routes share: the config, the store, the dispatcher, live runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from assay.dispatch.requests import Suites
from assay.server.config import ServerConfig
from assay.server.live import Hub
from assay.store import Store
from assay.store.connections import sqlite_path

if TYPE_CHECKING:
    from assay.dispatch import Dispatcher
    from assay.server.metrics import Metrics
    from assay.server.notify import Notifier


T = TypeVar("T")


@dataclass
class AppState:
    """Made by the app's lifespan; reached from a request with `state_of`."""

    config: ServerConfig
    store: Store
    hub: Hub
    dispatcher: Dispatcher
    metrics: Metrics
    suites: Suites
    notifier: Notifier

    def run_finished(self, run_id: int, reason: str | None = None) -> None:
        """A run is stored with its final status: end its live feed, send its webhooks.

        Safe to call from any thread (the dispatcher's workers call it).
        """
        self.hub.close_feed(run_id, reason)
        self.notifier.run_finished(run_id)

    async def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `query(*args, **kwargs)`, a read of the store, for a route that is `async`.

        On SQLite it runs right here on the event loop: a page of a listing
        takes SQLite about 0.1 ms, and handing it to a worker thread and back
        (and the threads' fight for the GIL) cost several times the query;
        serving listings this way doubled a loaded server's throughput. On a
        database across the network it runs on a worker thread, as waiting
        for the network must not stop the loop.
        """
        if sqlite_path(self.store.url) is not None:
            return query(*args, **kwargs)
        return await run_in_threadpool(query, *args, **kwargs)

    def project_store(self, project: str | None) -> Store:
        """The store seen as `project` (default: the server's own); one engine for all."""
        if project is None or project == self.store.project:
            return self.store
        return replace(self.store, project=project)


def state_of(request: Request) -> AppState:
    """The app's shared state."""
    state = request.app.state.assay
    assert isinstance(state, AppState)
    return state
