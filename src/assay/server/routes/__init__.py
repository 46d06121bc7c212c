"""The API's routes, one module per resource; `ROUTERS` is what the app mounts."""

from __future__ import annotations

from fastapi import APIRouter

from assay.server.routes import (
    artifacts,
    health,
    imports,
    ingest,
    runs,
    streams,
    tests,
    tokens,
    webhooks,
)
from assay.server.ui import router as dashboard

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    runs.router,
    streams.router,
    tests.router,
    artifacts.router,
    tokens.router,
    webhooks.router,
    ingest.router,
    imports.router,
    dashboard,
)
