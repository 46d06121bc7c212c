"""The Assay server: REST API, live streams, dashboard, tokens and webhooks.

`create_app(ServerConfig(settings))` builds the ASGI app; `assay serve`
runs it with uvicorn.
"""

from __future__ import annotations

from assay.server.app import create_app
from assay.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
