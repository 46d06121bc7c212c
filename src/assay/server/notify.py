"""Webhook delivery: signed POSTs for finished runs, retried with backoff, every attempt recorded.

`Notifier.run_finished` may be called from any thread (the dispatcher's
workers, the ingest route): it only hands the run id to the server's event
loop. There, one task at a time reads what the run announces (in a worker
thread, since the store blocks), so a burst of finished runs cannot take
every thread the API's routes need; then each (webhook, event) pair becomes
a task of its own. A slow or dead receiver therefore delays only its own
deliveries: at most `concurrency` requests are in flight at once, and a
delivery waiting to retry holds none of them.

The signature covers the timestamp and the raw body, as
`HMAC-SHA256(secret, f"{timestamp}.".encode() + body)` in hex: a receiver
can check the body came from a holder of the secret, and reject a replay
whose timestamp is old (see docs/webhooks.md).

Deliveries live in memory until they succeed or run out of attempts: a
server that stops waits `drain` seconds for those under way, then gives up
the rest (their attempts so far are recorded).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

from assay import __version__
from assay.server.announcements import Announcement, announce, ping
from assay.server.config import ServerConfig
from assay.store import Store
from assay.store.webhooks import Delivery, Webhook, list_webhooks, record_delivery

log = logging.getLogger("assay.server.webhooks")

_ERROR_BODY = 512  # bytes of a refusing receiver's answer kept with the attempt


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Assay-Signature` value: `sha256=` and the hex HMAC of `timestamp.body`."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class _Answer:
    """What one POST came to: a status, or the error that stopped it."""

    status_code: int | None
    error: str | None
    duration: float

    @property
    def delivered(self) -> bool:
        """Whether the receiver took it (any 2xx status)."""
        return self.status_code is not None and 200 <= self.status_code < 300


class Notifier:
    """Sends the webhooks of finished runs; `start` and `stop` bracket its life on the loop."""

    def __init__(
        self, store: Store, config: ServerConfig, *, concurrency: int = 16, drain: float = 5.0
    ) -> None:
        self.store = store
        self.attempts = max(1, config.webhook_attempts)
        self.backoff = config.webhook_backoff
        self.timeout = config.webhook_timeout
        self.root_path = config.base_url
        self.concurrency = concurrency
        self.drain = drain
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[int] | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    async def start(self) -> None:
        """Begin on the running loop: runs reported from now on are announced."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._slots = asyncio.Semaphore(self.concurrency)
        self._client = httpx.AsyncClient(
            timeout=self.timeout,
            follow_redirects=False,  # a receiver that moved must be updated, not guessed at
            headers={"User-Agent": f"assay/{__version__}"},
        )
        self._reader = asyncio.create_task(self._read(self._queue), name="assay-webhooks")

    async def stop(self) -> None:
        """Stop taking runs, give deliveries under way `drain` seconds, then drop the rest."""
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._queue is not None and not self._queue.empty():
            log.warning("webhooks of %d finished runs were not sent", self._queue.qsize())
        pending = set(self._tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=self.drain)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            log.warning("%d webhook deliveries were given up at shutdown", len(pending))
        if self._client is not None:
            await self._client.aclose()

    def run_finished(self, run_id: int) -> None:
        """Announce run `run_id`, which is stored with its final status; safe from any thread."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None or self._closing:
            log.warning("run %d finished while webhooks are stopped: none sent", run_id)
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, run_id)
        except RuntimeError:  # the loop is closed: the server has gone
            log.warning("run %d finished after the server stopped: no webhooks sent", run_id)

    async def ping(self, webhook: Webhook) -> Delivery | None:
        """Send `webhook` a test event once, without retries; the recorded attempt."""
        announcement = ping(webhook)
        return await self._attempt(webhook, announcement, announcement.body(webhook.format), 1)

    async def _read(self, queue: asyncio.Queue[int]) -> None:
        while True:
            run_id = await queue.get()
            try:
                planned = await run_in_threadpool(self._plan, run_id)
            except Exception:  # a run that vanished or a database hiccup: the next run goes on
                log.exception("could not read run %d to send its webhooks", run_id)
                continue
            for webhook, announcement in planned:
                self._spawn(self._deliver(webhook, announcement))

    def _plan(self, run_id: int) -> list[tuple[Webhook, Announcement]]:
        """Each active webhook with each event of the run it subscribes to (blocking)."""
        hooks = [w for w in list_webhooks(self.store) if w.active]
        if not hooks:  # the common case costs one small query
            return []
        wanted = {event for w in hooks for event in w.events}
        found = announce(self.store, run_id, wanted, root_path=self.root_path)
        return [(w, a) for a in found for w in hooks if w.wants(a.event)]

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a webhook delivery failed", exc_info=task.exception())

    async def _deliver(self, webhook: Webhook, announcement: Announcement) -> None:
        """Try until the receiver takes it or the attempts run out, waiting longer each time."""
        body = announcement.body(webhook.format)  # the same bytes every time: only signed anew
        for attempt in range(1, self.attempts + 1):
            delivery = await self._attempt(webhook, announcement, body, attempt)
            if delivery is None or delivery.delivered:  # None: the webhook was deleted
                return
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))

    async def _attempt(
        self, webhook: Webhook, announcement: Announcement, body: bytes, attempt: int
    ) -> Delivery | None:
        at = time.time()
        assert self._slots is not None, "start() first"
        async with self._slots:
            answer = await self._post(webhook, announcement, body, at)
        return await run_in_threadpool(
            partial(
                record_delivery,
                self.store,
                webhook.id,
                event=announcement.event,
                event_id=announcement.id,
                attempt=attempt,
                at=at,
                status_code=answer.status_code,
                error=answer.error,
                duration=answer.duration,
                delivered=answer.delivered,
                payload=body.decode(),
            )
        )

    async def _post(
        self, webhook: Webhook, announcement: Announcement, body: bytes, at: float
    ) -> _Answer:
        timestamp = str(int(at))
        headers = {
            "Content-Type": "application/json",
            "X-Assay-Event": announcement.event,
            "X-Assay-Delivery": announcement.id,
            "X-Assay-Timestamp": timestamp,
            "X-Assay-Signature": signature(webhook.secret, timestamp, body),
        }
        assert self._client is not None, "start() first"
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            # One deadline for the whole exchange: httpx's timeouts are per phase, and a
            # receiver that trickles its answer would never trip them.
            async with (
                asyncio.timeout(self.timeout),
                self._client.stream("POST", webhook.url, content=body, headers=headers) as reply,
            ):
                status = reply.status_code
                if not 200 <= status < 300:
                    error = await _refusal(reply)
        except TimeoutError:
            status, error = None, f"no answer within {self.timeout:g}s"
        except (httpx.HTTPError, httpx.InvalidURL) as failure:
            status, error = None, f"{type(failure).__name__}: {failure}".rstrip(": ")
        return _Answer(status, error, time.monotonic() - started)


async def _refusal(reply: httpx.Response) -> str:
    """Why a receiver refused: its status and the start of its answer."""
    head = b""
    async for chunk in reply.aiter_bytes():
        head += chunk
        if len(head) >= _ERROR_BODY:
            break
    text = head[:_ERROR_BODY].decode("utf-8", "replace").strip()
    if 300 <= reply.status_code < 400:
        text = f"redirects are not followed (Location: {reply.headers.get('location', '')})"
    return f"HTTP {reply.status_code}" + (f": {text}" if text else "")
