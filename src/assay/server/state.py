"""What the app's routes share: the config, the store, the dispatcher, live runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from fastapi import Request

from assay.dispatch.requests import Suites
from assay.server.config import ServerConfig
from assay.server.live import Hub
from assay.store import Store

if TYPE_CHECKING:
    from assay.dispatch import Dispatcher
    from assay.server.metrics import Metrics
    from assay.server.notify import Notifier


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
