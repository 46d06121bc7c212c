"""The API's routes, one module per resource; `ROUTERS` is what the app mounts."""

from __future__ import annotations

from fastapi import APIRouter

from assay.server.routes import artifacts, health, runs, streams, tests, tokens

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    runs.router,
    streams.router,
    tests.router,
    artifacts.router,
    tokens.router,
)
