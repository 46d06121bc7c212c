"""Ingest (`run` scope): remote runs send their events here, in batches.

`assay run --report-to URL` starts its run with a key of its own (`POST
/ingest/runs`; a retried start finds the same run), then posts the run's
wire events (see `assay.reports.wire`) in numbered batches: `POST
/ingest/runs/{id}/batches/{seq}`, a JSON list, usually gzip-compressed.
Each batch is stored once however often it is sent (`assay.store.ingest`);
one that was stored before is answered `{"duplicate": true}` and not
published again. Stored batches go to the run's live channel, so a remote
run is followed on the dashboard like one executing here.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, Field, JsonValue
from starlette.concurrency import run_in_threadpool

from assay.model.records import ResultRecord
from assay.reports.wire import WireError, read_record
from assay.server.auth import Runner
from assay.server.errors import ERROR_RESPONSES, ApiError, ErrorBody
from assay.server.state import AppState, state_of
from assay.store import ingest, writes

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"], responses=ERROR_RESPONSES)

_TYPES = frozenset(
    ("run.started", "test.started", "attempt.started", "attempt.finished", "test.finished")
)
_MAX_INT = 2**31 - 1  # an INTEGER column on every backend
KEY_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
"""A remote run's key: the reporter's own id for it, sent with every batch."""
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z, the last moment a datetime can hold
_LONGEST = 10 * 365 * 86400.0  # seconds; a longer run is a broken clock
# PostgreSQL's text cannot hold NUL characters.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
RunId = Annotated[int, Path(ge=1, le=_MAX_INT)]


class RemoteRunCreate(BaseModel):
    """A remote run to start (or find again, by its `key`), with where it runs."""

    key: str = Field(pattern=KEY_PATTERN, description="the reporter's own id")
    project: Text | None = Field(default=None, min_length=1, max_length=200)
    started_at: float = Field(ge=0, le=_LAST_SECOND, description="seconds since the epoch")
    host: Text | None = Field(default=None, max_length=255)
    pid: int | None = Field(default=None, ge=0, le=_MAX_INT)
    branch: Text | None = Field(default=None, max_length=255)
    commit: Text | None = Field(default=None, max_length=64)
    dirty: bool | None = None
    options: dict[str, JsonValue] | None = None


class RemoteRunRead(BaseModel):
    """The server's id of a remote run, and whether this request started it."""

    id: int
    created: bool
    url: str
    events: str


class BatchRead(BaseModel):
    """What became of a batch: stored now, or `duplicate` (stored before, skipped)."""

    run: int
    seq: int
    duplicate: bool
    results: int


@router.post(
    "/runs",
    status_code=201,
    response_model=RemoteRunRead,
    responses={200: {"model": RemoteRunRead, "description": "The run with this key"}},
    summary="Start a remote run",
)
def start_remote_run(
    request: Request, response: Response, body: RemoteRunCreate, caller: Runner
) -> RemoteRunRead:
    """Start the run with this `key` (201), or return the one it started before (200)."""
    state = state_of(request)
    options = dict(body.options or {})
    if caller.name is not None:
        options["started_by"] = caller.name
    info = writes.RunInfo(
        trigger="remote",
        started_at=body.started_at,
        host=body.host,
        pid=body.pid,
        branch=body.branch,
        commit=body.commit,
        dirty=body.dirty,
        options=options,
    )
    run_id, created = ingest.open_run(
        state.store, body.key, body.project or state.store.project, info
    )
    url = f"/api/v1/runs/{run_id}"
    response.headers["Location"] = url
    if not created:
        response.status_code = 200
    return RemoteRunRead(id=run_id, created=created, url=url, events=f"{url}/events")


@router.post(
    "/runs/{run_id}/batches/{seq}",
    status_code=201,
    response_model=BatchRead,
    responses={
        200: {"model": BatchRead, "description": "Stored before; skipped"},
        415: {"model": ErrorBody, "description": "A Content-Encoding other than gzip"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"type": "object"}},
                }
            },
        }
    },
    summary="Send a batch of a remote run's events",
)
async def post_batch(
    request: Request,
    response: Response,
    run_id: RunId,
    seq: Annotated[int, Path(ge=1, le=_MAX_INT)],
    x_assay_run_key: Annotated[
        str,
        Header(pattern=KEY_PATTERN, description="the key the run was started with"),
    ],
    _: Runner,
) -> BatchRead:
    """Store a JSON list of wire events (gzip with `Content-Encoding: gzip`) once.

    The body's size is limited before and after decompression (413); events
    that are not as documented are refused whole (422).
    """
    state = state_of(request)
    # The body limit has already bounded the compressed size; the rest runs off the loop.
    body = await request.body()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    written = await run_in_threadpool(_ingest, state, run_id, x_assay_run_key, seq, body, encoding)
    if written.duplicate:
        response.status_code = 200
    return written


def _ingest(
    state: AppState, run_id: int, key: str, seq: int, body: bytes, encoding: str
) -> BatchRead:
    """Decompress, check, store, then publish one batch (on a worker thread)."""
    batch = read_batch(inflate(body, encoding, state.config.max_batch))
    written = ingest.write_batch(
        state.store, run_id, key, seq, batch.results, batch.end, time.time()
    )
    if written:
        _publish(state, run_id, batch.events)
        if batch.end is not None:
            state.run_finished(run_id)
    return BatchRead(run=run_id, seq=seq, duplicate=not written, results=len(batch.results))


def _publish(state: AppState, run_id: int, events: list[dict[str, Any]]) -> None:
    """Send stored events to the run's live channel, if it has one or starts here.

    A channel rebuilt from the store (after a restart) holds the run so far;
    one made by a later batch would begin in the middle of the run. Until a
    client asks for one, the store is the run's only record, and metrics are
    counted here instead.
    """
    starts = any(event["type"] == "run.started" for event in events)
    channel = state.hub.channel(run_id) if starts else state.hub.find(run_id)
    if channel is None:
        state.metrics.observe(events)
    else:
        channel.publish(events)


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """`body` decompressed as `Content-Encoding` says; 413 past `limit` bytes, found early.

    The output is produced at most `limit + 1` bytes at a time, so that a
    small body that inflates to gigabytes (a gzip bomb) is stopped at the limit.
    """
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise ApiError(415, "unsupported_encoding", f"send gzip or identity, not {encoding!r}")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing only
    pieces: list[bytes] = []
    size = 0
    data = body
    try:
        while data and not inflater.eof:
            piece = inflater.decompress(data, limit - size + 1)
            size += len(piece)
            if size > limit:
                raise ApiError(
                    413, "too_large", f"the batch is larger than {limit} bytes once decompressed"
                )
            pieces.append(piece)
            data = inflater.unconsumed_tail
    except zlib.error as error:
        raise WireError(f"the body is not valid gzip: {error}") from None
    if not inflater.eof:
        raise WireError("the gzip stream ends too early")
    if inflater.unused_data:
        raise WireError("the body goes on after its gzip stream")
    return b"".join(pieces)


@dataclass
class Batch:
    """A batch's events as sent, with the results and the end of the run they carry."""

    events: list[dict[str, Any]]
    results: list[tuple[int, ResultRecord]] = field(default_factory=list)
    end: ingest.RunEnd | None = None


def read_batch(payload: bytes) -> Batch:
    """The events of one batch, checked; `WireError` naming the first bad one."""
    try:
        events = json.loads(payload)
    except ValueError as error:  # UnicodeDecodeError included
        raise WireError(f"the batch is not JSON: {error}") from None
    if not isinstance(events, list):
        raise WireError("a batch is a JSON list of events")
    batch = Batch(events)
    positions: set[int] = set()
    for index, event in enumerate(events):
        if batch.end is not None:
            raise WireError(f"event {index}: nothing may follow run.finished")
        try:
            _read_event(event, batch, positions)
        except WireError as error:
            raise WireError(f"event {index}: {error}") from None
    return batch


def _read_event(event: Any, batch: Batch, positions: set[int]) -> None:
    if not isinstance(event, dict):
        raise WireError("an event is a JSON object")
    kind = event.get("type")
    if kind == "run.finished":
        batch.end = _run_end(event)
        return
    if kind not in _TYPES:
        raise WireError(f"unknown event type {kind!r}")
    if kind == "run.started":
        if not isinstance(event.get("tests"), list):
            raise WireError("run.started: tests must be a list")
        return
    position = event.get("position")
    if type(position) is not int or not 0 <= position <= _MAX_INT:
        raise WireError(f"{kind}: position must be a whole number, not {position!r}")
    if kind == "test.finished":
        if position in positions:
            raise WireError(f"a second result at position {position}")
        positions.add(position)
        try:
            record = read_record(event.get("result"))
        except (OverflowError, OSError):  # a time no datetime can hold
            raise WireError("test.finished: a time is out of range") from None
        batch.results.append((position, record))
    elif kind == "attempt.finished":
        _check_attempt(event.get("attempt"))


def _run_end(event: dict[str, Any]) -> ingest.RunEnd:
    duration = event.get("duration")
    interrupted = event.get("interrupted")
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        raise WireError(f"run.finished: duration must be seconds, not {duration!r}")
    if not 0 <= duration <= _LONGEST:  # NaN too
        raise WireError(f"run.finished: duration must be seconds, not {duration!r}")
    if interrupted is not None and not isinstance(interrupted, str):
        raise WireError("run.finished: interrupted must be text or null")
    return ingest.RunEnd(float(duration), interrupted)


def _check_attempt(attempt: Any) -> None:
    """What live subscribers read of an attempt is there (the stored copy is in the result)."""
    if not isinstance(attempt, dict):
        raise WireError("attempt.finished: attempt must be an object")
    for stream in ("stdout", "stderr"):
        output = attempt.get(stream)
        if output is not None and not (
            isinstance(output, dict) and isinstance(output.get("text"), str)
        ):
            raise WireError(f"attempt.finished: {stream} must be null or have a text")
