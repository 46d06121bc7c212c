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
from assay.reports.wire import record_document
from assay.server.auth import Reader, require_stream
from assay.server.errors import ERROR_RESPONSES
from assay.server.live import Channel
from assay.server.routes.runs import Position, RunId, run_store
from assay.server.state import AppState, state_of
from assay.store import Store, queries

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
    if seq == 0:
        return b": heartbeat\n\n"
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
    return StreamingResponse(
        _follow(request, channel, _start(after, last_event_id), state.config.heartbeat),
        media_type="text/event-stream",
        headers=SSE,
    )


async def _follow(
    request: Request, channel: Channel, after: int, heartbeat: float
) -> AsyncIterator[bytes]:
    sent = after
    async for seq, kind, data in channel.follow(after, heartbeat):
        if seq == 0:
            yield _frame(seq, kind, data)
            if await request.is_disconnected():
                return
        elif seq > sent:
            # Everything published by now goes out in one write: with hundreds of
            # subscribers, a write per event would be most of the server's work.
            batch = [(seq, kind, data), *channel.since(seq)]
            sent = batch[-1][0]
            yield b"".join(_frame(*event) for event in batch)


def _replay(state: AppState, store: Store, run_id: int) -> Channel:
    """A channel rebuilt from the store, for a run the hub no longer (or never) had.

    A run that is still going (`queued`, `running`) is followed by polling
    the store until it ends: its events come from a process elsewhere.
    """
    run = queries.get_run(store, run_id)
    channel = state.hub.channel(run_id)
    if channel.events:  # another request rebuilt it meanwhile
        return channel
    results = queries.results(store, run_id, with_attempts=False)
    events = [
        {
            "type": "run.started",
            "started_at": run.started_at.timestamp(),
            "jobs": None,
            "tests": [
                {
                    "position": r.position,
                    "id": r.key,
                    "name": r.name,
                    "suite": r.suite,
                    "kind": r.kind,
                    "file": r.file,
                    "line": r.line,
                    "tags": [],
                }
                for r in results
            ],
        }
    ]
    for r in results:
        record = ResultRecord(
            TestRecord(r.key, r.name, r.suite, r.kind, r.file, r.line),
            Outcome(r.outcome),
            reason=r.reason,
            flaky=r.flaky,
        )
        document = record_document(record)
        document["duration"] = r.duration
        document["message"] = r.message
        events.append({"type": "test.finished", "position": r.position, "result": document})
    if run.status not in ("queued", "running"):
        events.append(
            {
                "type": "run.finished",
                "duration": run.duration,
                "interrupted": run.reason if run.status == "interrupted" else None,
                "counts": {
                    "passed": run.passed,
                    "failed": run.failed,
                    "error": run.errors,
                    "timeout": run.timeouts,
                    "skipped": run.skipped,
                    "flaky": run.flaky,
                },
            }
        )
    channel.publish(events)
    return channel


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
