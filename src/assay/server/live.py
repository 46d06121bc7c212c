"""Live runs: every run's wire events in order, numbered, for any number of subscribers.

A run's events go into its `Channel`, an append-only list in which an
event's sequence number is its index plus one. Publishers (the engine's
thread through `LiveFeed`, or the ingest route for remote runs) append and
never wait for anyone. Each subscriber keeps its own cursor and reads at its
own pace, so a slow client falls behind without slowing the run, and a
client that reconnects with the last number it saw (`Last-Event-ID`) gets
what it missed and then the live feed. A late joiner starts at zero: the
history first, then the live feed.

Subscribers are woken through the server's event loop; the wake-up is
coalesced so that a burst of events schedules one callback, not one per
event.

Running attempts' logs are not copied into channels: `LiveFeed` knows the
files they are being written to, and a log stream reads them directly
(`read_log`), so a test printing a gigabyte costs the server nothing
unless someone is watching it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from assay.model import AttemptFinished, AttemptStarted, Event, Output, RunFinished
from assay.reports.wire import Encoder, run_finished

ENDED_KEPT = 16
"""Ended attempts per run whose output a late log watcher can still finish reading."""

FEEDS_KEPT = 8
"""Finished runs whose ended attempts' output is kept (see `ENDED_KEPT`)."""

LOG_TAIL = 4096
"""Characters of each output kept in a live event; the whole log is in the store."""


class Channel:
    """One run's events; append from any thread, read from the event loop."""

    def __init__(
        self,
        run_id: int,
        loop: asyncio.AbstractEventLoop,
        listener: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self.loop = loop
        self.listener = listener
        self.events: list[tuple[str, str]] = []  # (type, JSON data); seq = index + 1
        self.finished = False
        self._changed = asyncio.Event()
        self._lock = threading.Lock()
        self._wake_pending = False

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Append wire events; a `run.finished` closes the channel."""
        if self.listener is not None:
            self.listener(events)
        encoded = [(e["type"], json.dumps(_trimmed(e), separators=(",", ":"))) for e in events]
        with self._lock:
            self.events.extend(encoded)
            if any(kind == "run.finished" for kind, _ in encoded):
                self.finished = True
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: the server is stopping
            self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        self._changed.set()
        self._changed = asyncio.Event()

    def positions(self) -> set[int]:
        """The positions of the results published so far."""
        with self._lock:
            finished = [data for kind, data in self.events if kind == "test.finished"]
        return {json.loads(data)["position"] for data in finished}

    def since(self, seq: int) -> list[tuple[int, str, str]]:
        """Events after sequence number `seq`, numbered."""
        with self._lock:
            return [(i + 1, kind, data) for i, (kind, data) in enumerate(self.events[seq:], seq)]

    async def follow(
        self, after: int, heartbeat: float
    ) -> AsyncIterator[list[tuple[int, str, str]]]:
        """Events after `after`, then new ones as they come, until the run finishes.

        Yields every event published so far at once (a subscriber writes them
        in one go: with hundreds of subscribers, a write per event would be
        most of the server's work), and an empty list when nothing happened
        for `heartbeat` seconds.
        """
        cursor = after
        while True:
            changed = self._changed
            batch = self.since(cursor)
            if batch:
                yield batch
                cursor = batch[-1][0]
                continue
            if self.finished:
                return
            try:
                await asyncio.wait_for(changed.wait(), heartbeat)
            except TimeoutError:
                yield []


def _trimmed(event: dict[str, Any]) -> dict[str, Any]:
    """`event` (copied where it changes) with each output cut to its last `LOG_TAIL` characters."""
    if event["type"] == "attempt.finished":
        return {**event, "attempt": _trimmed_attempt(event["attempt"])}
    if event["type"] == "test.finished":
        result = event["result"]
        attempts = [_trimmed_attempt(a) for a in result.get("attempts") or ()]
        return {**event, "result": {**result, "attempts": attempts}}
    return event


def _trimmed_attempt(attempt: dict[str, Any]) -> dict[str, Any]:
    trimmed = dict(attempt)
    for stream in ("stdout", "stderr"):
        output = attempt.get(stream)
        if output and len(output["text"]) > LOG_TAIL:
            trimmed[stream] = {**output, "text": output["text"][-LOG_TAIL:], "truncated": True}
    return trimmed


class Hub:
    """The channels of live runs, and of the last `keep` finished ones."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        keep: int = 50,
        listener: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.loop = loop
        self.keep = keep
        self.listener = listener
        """Sees every batch published to any channel (metrics count outcomes from it)."""
        self._channels: OrderedDict[int, Channel] = OrderedDict()
        self._feeds: dict[int, LiveFeed] = {}
        self._closed_feeds: list[int] = []  # oldest first
        self.watchers: dict[int, asyncio.Task[None]] = {}
        """Tasks following runs that execute elsewhere (see `routes.streams`), by run."""
        self._lock = threading.Lock()

    def channel(self, run_id: int) -> Channel:
        """The run's channel, made on first use."""
        with self._lock:
            channel = self._channels.get(run_id)
            if channel is None:
                channel = self._channels[run_id] = Channel(run_id, self.loop, self.listener)
                self._evict()
            return channel

    def find(self, run_id: int) -> Channel | None:
        """The run's channel if the hub has one."""
        with self._lock:
            return self._channels.get(run_id)

    def _evict(self) -> None:
        finished = [i for i, c in self._channels.items() if c.finished]
        for run_id in finished[: max(0, len(finished) - self.keep)]:
            del self._channels[run_id]

    def feed(self, run_id: int) -> LiveFeed:
        """An engine handler that publishes run `run_id` here."""
        feed = LiveFeed(self, run_id)
        with self._lock:
            self._feeds[run_id] = feed
        return feed

    def log_source(self, run_id: int) -> LiveFeed | None:
        """The feed of a run executing in this process, for reading running attempts' logs."""
        with self._lock:
            return self._feeds.get(run_id)

    def stop_watching(self) -> None:
        """Cancel the watchers (the server is stopping)."""
        for task in list(self.watchers.values()):
            task.cancel()

    def close_feed(self, run_id: int, reason: str | None = None) -> None:
        """The run is stored: let its feed publish the end (see `LiveFeed.close`).

        A run with no feed here (a remote one) that ended without saying so,
        for `reason`, gets its `run.finished` in its channel, if it has one.
        """
        with self._lock:
            feed = self._feeds.get(run_id)
            channel = self._channels.get(run_id)
        if feed is not None:
            feed.close(reason)
        elif channel is not None and not channel.finished and reason is not None:
            channel.publish([run_finished(None, reason, {})])

    def _done(self, run_id: int) -> None:
        with self._lock:
            # A finished run's feed stays a little while: a log watcher may still be
            # reading the end of its last tests' output.
            self._closed_feeds.append(run_id)
            while len(self._closed_feeds) > FEEDS_KEPT:
                self._feeds.pop(self._closed_feeds.pop(0), None)
            self._evict()

    @property
    def subscribers_hint(self) -> int:
        """How many channels are live (for metrics)."""
        with self._lock:
            return sum(1 for c in self._channels.values() if not c.finished)


@dataclass(frozen=True, slots=True)
class LogChunk:
    """Text read from an attempt's output, where the next read starts, and whether it ended."""

    number: int
    text: str
    offset: int
    ended: bool = False
    """The attempt is over and this is the last of its output that can be streamed."""


class LiveFeed:
    """Publishes one in-process run's events to its channel; knows its running attempts' files."""

    def __init__(self, hub: Hub, run_id: int) -> None:
        self.hub = hub
        self.run_id = run_id
        self.channel = hub.channel(run_id)
        self._encoder = Encoder()
        self._running: dict[int, AttemptStarted] = {}  # position -> attempt
        # The output of recently ended attempts, for watchers still catching up: the files
        # are reused by then, and the attempt's captured output has the rest.
        self._ended: OrderedDict[int, tuple[int, dict[str, Output | None]]] = OrderedDict()
        self._final: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def handle(self, event: Event) -> None:
        """Publish `event`; track which attempts are running."""
        wire = self._encoder.encode(event)
        if isinstance(event, AttemptStarted):
            with self._lock:
                self._running[wire["position"]] = event
        elif isinstance(event, AttemptFinished):
            # Before the event goes out: the files are about to be reused.
            attempt = event.attempt
            with self._lock:
                self._running.pop(wire["position"], None)
                self._ended[wire["position"]] = (
                    attempt.number,
                    {"stdout": attempt.stdout, "stderr": attempt.stderr},
                )
                while len(self._ended) > ENDED_KEPT:
                    self._ended.popitem(last=False)
        if isinstance(event, RunFinished):
            # Held back until the run is stored (`close`): a client that reloads the run
            # when it sees `run.finished` must find its final status.
            self._final = wire
            return
        self.channel.publish([wire])

    def close(self, reason: str | None = None) -> None:
        """Publish `run.finished` once the run is stored; `reason` if it never ran."""
        final = self._final or run_finished(0.0, reason or "the run ended without finishing", {})
        self.channel.publish([final])
        self.hub._done(self.run_id)

    def read_log(
        self, position: int, stream: str, offset: int, limit: int = 65536
    ) -> LogChunk | None:
        """Up to `limit` bytes of an attempt's output from `offset`; None if none is known.

        The lock is held while reading: the engine's thread takes it before it
        reuses the file for another test.
        """
        with self._lock:
            attempt = self._running.get(position)
            if attempt is None:
                ended = self._ended.get(position)
                return None if ended is None else _rest(*ended, stream, offset, limit)
            path = attempt.stdout if stream == "stdout" else attempt.stderr
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            try:
                data = os.pread(fd, limit, offset)
            finally:
                os.close(fd)
        return _chunk(attempt.number, data, offset, limit)


def _rest(
    number: int, outputs: dict[str, Output | None], stream: str, offset: int, limit: int
) -> LogChunk:
    """What is left after `offset` of an ended attempt's captured output."""
    output = outputs.get(stream)
    if output is None or output.truncated:  # the middle is gone: the whole log is stored
        return LogChunk(number, "", offset, ended=True)
    data = output.text.encode("utf-8")[offset : offset + limit]
    chunk = _chunk(number, data, offset, limit)
    return replace(chunk, ended=chunk.offset >= output.size)


def _chunk(number: int, data: bytes, offset: int, limit: int) -> LogChunk:
    """`data`, read at `offset`, as text; a full read stops at the last whole character."""
    # A full chunk may end inside a multi-byte character: those bytes are read next time.
    consumed = len(data) if len(data) < limit else _whole_characters(data)
    return LogChunk(number, data[:consumed].decode("utf-8", "replace"), offset + consumed)


def _whole_characters(data: bytes) -> int:
    """How many leading bytes of `data` end on a character boundary."""
    for cut in range(4):
        try:
            data[: len(data) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return len(data) - cut
    return len(data)  # not UTF-8 at all: shown with replacement characters
