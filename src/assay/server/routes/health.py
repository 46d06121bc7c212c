"""Liveness, readiness and metrics: for orchestrators and Prometheus, never behind a token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assay.server.metrics import CONTENT_TYPE
from assay.server.schemas import HealthRead
from assay.server.state import state_of
from assay.store.schema import is_current

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthRead, summary="Liveness")
async def healthz() -> HealthRead:
    """The process answers."""
    return HealthRead(status="ok")


@router.get(
    "/readyz",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "Not ready"}},
    summary="Readiness",
)
async def readyz(request: Request) -> Response:
    """The database is reachable and its schema is current."""
    state = state_of(request)

    def check() -> str | None:
        from assay.store.connections import AlchemyConnection

        try:
            with state.store.engine.connect() as raw:
                if not is_current(AlchemyConnection(raw)):
                    return "the database schema is not current"
        except Exception as error:  # any failure means "not ready", said plainly
            return str(error).splitlines()[0] if str(error) else type(error).__name__
        return None

    problem = await run_in_threadpool(check)
    if problem is None:
        return JSONResponse(HealthRead(status="ok").model_dump())
    return JSONResponse(
        HealthRead(status="unavailable", detail=problem).model_dump(), status_code=503
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """Runs by status, tests by outcome, run durations, queue depth, HTTP latency."""
    body = await run_in_threadpool(state_of(request).metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE)
