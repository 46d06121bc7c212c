"""Live streams over Server-Sent Events: a run's events, and a running test's log.

Run events carry their sequence number as the SSE `id`, so a browser's
`EventSource` resumes by itself after a drop (it sends `Last-Event-ID`);
other clients pass `?after=N`. Log streams number their chunks by byte
offset, so they resume the same way. A comment line every `heartbeat`
seconds keeps idle connections (and proxies) open.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assay.model import Outcome
from assay.model.records import ResultRecord, TestRecord
from assay.reports.wire import record_document, run_finished, test_document
from assay.server.auth import Reader, require_stream
from assay.server.errors import ERROR_RESPONSES
from assay.server.live import Channel
from assay.server.routes.runs import Position, RunId, run_store
from assay.server.state import AppState, state_of
from assay.store import Store, queries
from assay.store.queries import StoredResult, StoredRun

router = APIRouter(
    prefix="/api/v1",
    tags=["live"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(require_stream)],
)

SSE = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
MAX_AFTER = 2**63 - 1  # a byte offset into a log; more would overflow the file offset
_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "An SSE stream"}
}


def _frame(seq: int, kind: str, data: str) -> bytes:
    return f"id: {seq}\nevent: {kind}\ndata: {data}\n\n".encode()


def _start(after: int | None, last_event_id: str | None) -> int:
    if after is not None:
        return after
    if last_event_id is not None and last_event_id.strip().isdecimal():
        return min(int(last_event_id), MAX_AFTER)
    return 0


@router.get(
    "/runs/{run_id}/events",
    response_class=StreamingResponse,
    responses=_STREAM_DOC,
    summary="Follow a run's events live",
)
async def run_events(
    request: Request,
    run_id: RunId,
    _: Reader,
    after: Annotated[int | None, Query(ge=0, le=MAX_AFTER)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """The run's events from `after` (or `Last-Event-ID`), then live ones until it finishes."""
    state = state_of(request)
    channel = state.hub.find(run_id)
    if channel is None:
        store = await run_in_threadpool(run_store, state, run_id)  # 404 for no such run
        channel = await run_in_threadpool(_replay, state, store, run_id)
        if not channel.finished and state.hub.log_source(run_id) is None:
            _watch(state, store, run_id, channel)
    return StreamingResponse(
        _follow(request, channel, _start(after, last_event_id), state.config.heartbeat),
        media_type="text/event-stream",
        headers=SSE,
    )


WATCH_EVERY = 2.0
"""Seconds between looks at a run that executes elsewhere (see `_watch`)."""


def _watch(state: AppState, store: Store, run_id: int, channel: Channel) -> None:
    """Follow a run that executes in another process until it ends, then publish its end.

    Its events never reach this server's hub, so the store is polled for its
    status; once it is over, the results stored since the replay and
    `run.finished` are published, and every subscriber's stream ends.
    """
    if run_id in state.hub.watchers:
        return

    async def watch() -> None:
        try:
            while not channel.finished:
                await asyncio.sleep(WATCH_EVERY)
                run = await run_in_threadpool(queries.get_run, store, run_id)
                if run.status not in ("queued", "running") and not channel.finished:
                    seen = channel.positions()
                    events = await run_in_threadpool(_stored_events, store, run, seen)
                    channel.publish(events[1:])  # the run started long ago
        finally:
            state.hub.watchers.pop(run_id, None)

    state.hub.watchers[run_id] = asyncio.get_running_loop().create_task(watch())


async def _follow(
    request: Request, channel: Channel, after: int, heartbeat: float
) -> AsyncIterator[bytes]:
    async for batch in channel.follow(after, heartbeat):
        if batch:
            yield b"".join(_frame(*event) for event in batch)
            continue
        yield b": heartbeat\n\n"
        if await request.is_disconnected():
            return


def _replay(state: AppState, store: Store, run_id: int) -> Channel:
    """A channel rebuilt from the store, for a run the hub no longer (or never) had.

    A remote run that is still going gets its next batches published here
    by the ingest route; one executing in another server process is
    watched (`_watch`) until it ends.
    """
    run = queries.get_run(store, run_id)
    channel = state.hub.channel(run_id)
    if not channel.events:  # else another request rebuilt it meanwhile
        channel.publish(_stored_events(store, run, set()))
    return channel


def _stored_events(store: Store, run: StoredRun, skip: set[int]) -> list[dict[str, Any]]:
    """The events a stored run amounts to: its start, its results (but `skip`), its end."""
    results = [r for r in queries.results(store, run.id) if r.position not in skip]
    events: list[dict[str, Any]] = [
        {
            "type": "run.started",
            "started_at": run.started_at.timestamp(),
            "jobs": None,
            "tests": [{"position": r.position, **test_document(_record(r).test)} for r in results],
        }
    ]
    for r in results:
        document = record_document(_record(r))
        document["duration"] = r.duration
        document["message"] = r.message
        events.append({"type": "test.finished", "position": r.position, "result": document})
    if run.status not in ("queued", "running"):
        counts = {
            "passed": run.passed,
            "failed": run.failed,
            "error": run.errors,
            "timeout": run.timeouts,
            "skipped": run.skipped,
            "flaky": run.flaky,
        }
        interrupted = run.reason if run.status == "interrupted" else None
        events.append(run_finished(run.duration, interrupted, counts))
    return events


def _record(result: StoredResult) -> ResultRecord:
    return ResultRecord(
        TestRecord(result.key, result.name, result.suite, result.kind, result.file, result.line),
        Outcome(result.outcome),
        reason=result.reason,
        flaky=result.flaky,
    )


@router.get(
    "/runs/{run_id}/results/{position}/log",
    response_class=StreamingResponse,
    responses=_STREAM_DOC,
    summary="Follow a running test's output",
)
async def test_log(
    request: Request,
    run_id: RunId,
    position: Position,
    _: Reader,
    stream: Literal["stdout", "stderr"] = "stdout",
    after: Annotated[int | None, Query(ge=0, le=MAX_AFTER)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """A running attempt's output as `log` events (`id` is the byte offset), then `end`.

    The output so far comes first, so a late joiner misses nothing. When the
    test is not running in this server, the stream ends at once with `end`:
    its stored log is in the result.
    """
    state = state_of(request)
    await run_in_threadpool(run_store, state, run_id)  # 404 for no such run
    offset = _start(after, last_event_id)
    return StreamingResponse(
        _tail(request, state, run_id, position, stream, offset),
        media_type="text/event-stream",
        headers=SSE,
    )


async def _tail(
    request: Request, state: AppState, run_id: int, position: int, stream: str, offset: int
) -> AsyncIterator[bytes]:
    idle = 0.0
    attempt: int | None = None
    while True:
        feed = state.hub.log_source(run_id)
        chunk = None if feed is None else feed.read_log(position, stream, offset)
        if chunk is None or (attempt is not None and chunk.number != attempt):
            yield f"event: end\ndata: {json.dumps({'offset': offset})}\n\n".encode()
            return
        attempt = chunk.number
        if chunk.text:
            offset = chunk.offset
            data = json.dumps({"attempt": chunk.number, "text": chunk.text, "offset": offset})
            yield f"id: {offset}\nevent: log\ndata: {data}\n\n".encode()
            idle = 0.0
            if not chunk.ended:
                continue
        if chunk.ended:
            yield f"event: end\ndata: {json.dumps({'offset': offset})}\n\n".encode()
            return
        await asyncio.sleep(0.2)
        idle += 0.2
        if idle >= state.config.heartbeat:
            idle = 0.0
            yield b": heartbeat\n\n"
            if await request.is_disconnected():
                return
