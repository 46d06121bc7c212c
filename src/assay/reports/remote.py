"""Reporting a run to an Assay server as it happens: `assay run --report-to URL`.

The engine's thread only puts events on a queue. A sender thread turns them
into wire events (`assay.reports.wire`), gathers them into batches (a
thousand results, 8 MiB, or a second's worth, whichever comes first),
compresses each with gzip and posts it with the standard library, so that
`assay run` loads no HTTP client.

The protocol has two requests. `POST /api/v1/ingest/runs` starts the run
under a key the reporter makes up, so that a retried start finds the same
run; then `POST /api/v1/ingest/runs/{id}/batches/{seq}` sends batch 1, 2,
3... in order, one at a time. The server stores each batch once, however
often it arrives, so whatever got no answer can be sent again.

When the server cannot be reached, or answers 5xx, 408 or 429, batches wait
in memory, compressed, and are sent again after an exponential backoff:
a server restarting during a run loses nothing. The run never waits for the
server, except at its end for what is left to send, and never fails
because of it: after `patience` seconds without an answer the reporter
gives up, and `problem` says what was not reported, for the caller to show
as a warning. A batch the server refuses (413, 422, ...) is dropped and the
rest still sent; a refused token or run (401, 403, 404) ends the reporting.
"""

from __future__ import annotations

import collections
import gzip
import json
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.model import Event, RunFinished, RunStarted
from assay.model.units import format_duration
from assay.reports.wire import Encoder
from assay.store.provenance import GitInfo, git_info

BATCH = 1000
"""Results in one batch at most."""
MAX_BYTES = 8 * 1024 * 1024
"""JSON characters in one batch at most (a single larger event goes alone)."""
FLUSH = 1.0
"""Seconds an event may wait for its batch to fill, which bounds requests to one a second."""
PATIENCE = 120.0
"""Seconds without an answer from the server after which reporting gives up."""
TIMEOUT = 30.0
"""Seconds one request may take."""

_FIRST_RETRY = 0.25
_LONGEST_WAIT = 5.0
# Live views keep this much of an attempt's output; the whole is sent with the result.
_LIVE_TAIL = 4096
_GZIP_LEVEL = 5  # JSON of results shrinks about tenfold; higher levels cost more than they save
_STOP = object()


class RemoteReporter:
    """Sends the events of one run to an Assay server; never fails the run it reports.

    `problem` says, once the run is over, what could not be reported, if
    anything; `run_id` is the run's id on the server once it was started there.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        project: str,
        options: dict[str, object] | None = None,
        checkout: Path | None = None,
        patience: float = PATIENCE,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.project = project
        self.options = options
        self.checkout = checkout
        self.patience = patience
        self.key = uuid.uuid4().hex
        """The reporter's own name for the run: a retried start finds the same run."""
        self.run_id: int | None = None
        self.problem: str | None = None
        self.sent = 0
        """Batches the server has stored."""
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def handle(self, event: Event | dict[str, Any]) -> None:
        """Queue `event`; on `RunFinished`, wait until the rest is sent or reporting gives up.

        `event` may also be a ready-made wire event (`assay.reports.wire`), for
        senders that have records rather than engine events (`pytest --assay`):
        `run.started` and `run.finished` then begin and end the run.
        """
        started_at: float | None = None
        if isinstance(event, RunStarted):
            started_at = event.started_at.timestamp()
        elif isinstance(event, dict) and event.get("type") == "run.started":
            started_at = float(event["started_at"])
        if started_at is not None:
            self._thread = threading.Thread(
                target=self._send,
                args=(started_at,),
                name="assay-reporter",
                # A run that dies with an exception sends no RunFinished: the process
                # must still be able to exit.
                daemon=True,
            )
            self._thread.start()
        if self._thread is None:
            return
        self._queue.put(event)
        if _ends(event):
            self._queue.put(_STOP)
            # Giving up takes `patience`, and a request in flight then may take TIMEOUT more.
            self._thread.join(self.patience + 2 * TIMEOUT)
            if self._thread.is_alive():
                self.problem = self.problem or f"the run was not reported to {self.url}: no answer"
            self._thread = None

    def _send(self, started_at: float) -> None:
        delivery = _Delivery(self, self._queue, started_at)
        try:
            delivery.run()
        except Exception as error:  # reporting must never take the run down with it
            done = "only partly reported" if self.sent else "not reported"
            self.problem = f"the run was {done} to {self.url}: internal error: {error!r}"


@dataclass
class _Pending:
    """A sealed batch: its number, its compressed body, and how many results it holds."""

    seq: int
    body: bytes
    results: int


class _Unavailable(Exception):
    """No answer, or an answer that says to try again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Refused(Exception):
    """The server refused the request: sending it again would not help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the server answered {status}: {message}")
        self.status = status


class _Delivery:
    """The sender thread's work for one run: batch, compress, send, retry."""

    def __init__(
        self, reporter: RemoteReporter, events: queue.SimpleQueue[Any], started_at: float
    ) -> None:
        self.reporter = reporter
        self.events = events
        self.started_at = started_at
        self.encoder = Encoder()
        self.pending: collections.deque[_Pending] = collections.deque()
        self.parts: list[str] = []
        self.size = 0
        self.results = 0
        self.deadline: float | None = None
        self.seq = 0
        self.retry_at = 0.0
        self.failures = 0
        self.failing_since: float | None = None
        self.gave_up = False
        self.refused: list[tuple[_Refused, int]] = []  # (why, results lost)
        self.git: GitInfo | None = None

    def run(self) -> None:
        """Take events off the queue until the run is over, sending batches as they fill."""
        closing = False
        while not closing:
            try:
                item = self.events.get(timeout=self._wait())
            except queue.Empty:
                item = None
            if item is _STOP:
                closing = True
            elif _ends(item) and not self.gave_up:
                # The end goes alone: a batch the server refuses cannot take it along,
                # which would leave the run `running` there for good.
                if self.parts:
                    self._seal()
                self._add(item)
                self._seal()
            elif item is not None and not self.gave_up:
                self._add(item)
            if self.parts and (
                closing
                or self.results >= BATCH
                or self.size >= MAX_BYTES
                or (self.deadline is not None and time.monotonic() >= self.deadline)
            ):
                self._seal()
            self._deliver(final=closing)
        self._report()

    def _wait(self) -> float | None:
        """How long the queue may keep us: until a batch is due, or a retry."""
        # Batches wait in `pending` only while a retry is due later: others were sent.
        due = [t for t in (self.deadline, self.retry_at if self.pending else None) if t is not None]
        return None if not due else max(0.0, min(due) - time.monotonic())

    def _add(self, event: Event | dict[str, Any]) -> None:
        wire = event if isinstance(event, dict) else self.encoder.encode(event)
        if wire["type"] == "attempt.finished":
            wire["attempt"] = _live_attempt(wire["attempt"])
        elif wire["type"] == "test.finished":
            self.results += 1
        text = json.dumps(wire, separators=(",", ":"))
        self.parts.append(text)
        self.size += len(text)
        if self.deadline is None:
            self.deadline = time.monotonic() + FLUSH

    def _seal(self) -> None:
        self.seq += 1
        payload = ("[" + ",".join(self.parts) + "]").encode()
        body = gzip.compress(payload, compresslevel=_GZIP_LEVEL, mtime=0)
        self.pending.append(_Pending(self.seq, body, self.results))
        self.parts, self.size, self.results, self.deadline = [], 0, 0, None

    def _deliver(self, *, final: bool) -> None:
        """Send the waiting batches in order; at the end, wait out retries until all are sent."""
        while self.pending and not self.gave_up:
            wait = self.retry_at - time.monotonic()
            if wait > 0:
                if not final:
                    return
                time.sleep(wait)
            batch = self.pending[0]
            try:
                if self.reporter.run_id is None:
                    self.reporter.run_id = self._start()
                self._post(
                    f"/api/v1/ingest/runs/{self.reporter.run_id}/batches/{batch.seq}",
                    batch.body,
                    {
                        "Content-Type": "application/json",
                        "Content-Encoding": "gzip",
                        "X-Assay-Run-Key": self.reporter.key,
                    },
                )
            except _Unavailable as error:
                self._failed(error)
                continue
            except _Refused as error:
                # A bad token, or a run the server does not have: nothing else can succeed.
                if error.status in (401, 403, 404) or self.reporter.run_id is None:
                    self._give_up(str(error))
                    return
                self.refused.append((error, batch.results))
            else:
                self.reporter.sent += 1
            self.pending.popleft()
            self.failures, self.failing_since = 0, None

    def _start(self) -> int:
        """Start the run on the server (or find the one a lost answer started)."""
        from assay.store.connections import host_pid

        host, pid = host_pid()
        if self.git is None:
            # On the sender thread, and once: `git status` in a big checkout takes a while.
            self.git = git_info(self.reporter.checkout or Path.cwd())
        git = self.git
        body = {
            "key": self.reporter.key,
            "project": self.reporter.project,
            "started_at": self.started_at,
            "host": host,
            "pid": pid,
            "branch": git.branch,
            "commit": git.commit,
            "dirty": git.dirty,
            "options": self.reporter.options,
        }
        answer = self._post(
            "/api/v1/ingest/runs", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        run_id = answer.get("id")
        if not isinstance(run_id, int):
            raise _Refused(200, "the answer has no run id")
        return run_id

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """POST `body`; the answer's JSON, or `_Unavailable` / `_Refused` saying why not."""
        import http.client
        import urllib.error
        import urllib.request

        if self.reporter.token:
            headers = {**headers, "Authorization": f"Bearer {self.reporter.token}"}
        request = urllib.request.Request(
            self.reporter.url + path,
            data=body,
            method="POST",
            headers={**headers, "User-Agent": "assay"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            try:
                text = error.read()
            except (OSError, http.client.HTTPException):  # the connection broke meanwhile
                text = b""
            status, message = error.code, _message(text)
            if status in (408, 429) or status >= 500:
                raise _Unavailable(
                    f"the server answered {status}: {message}",
                    _seconds(error.headers.get("Retry-After")),
                ) from None
            raise _Refused(status, message) from None
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", None) or error
            raise _Unavailable(f"cannot reach the server: {reason}") from None
        try:
            found = json.loads(answer)
        except ValueError:
            found = None
        return found if isinstance(found, dict) else {}

    def _failed(self, error: _Unavailable) -> None:
        """Wait longer after each failure in a row; give up after `patience` of them."""
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        patience = self.reporter.patience
        if now - self.failing_since >= patience:
            self._give_up(f"no answer for {format_duration(patience)}: {error}")
            return
        delay = min(_LONGEST_WAIT, _FIRST_RETRY * 2**self.failures) * random.uniform(0.5, 1.0)
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, _LONGEST_WAIT * 12))
        self.failures += 1
        # The last try comes when patience runs out, not a backoff's length after.
        self.retry_at = min(now + delay, self.failing_since + patience)

    def _give_up(self, reason: str) -> None:
        self.gave_up = True
        self.pending.clear()
        self.parts, self.size, self.results, self.deadline = [], 0, 0, None
        done = "only partly reported" if self.reporter.sent else "not reported"
        self.reporter.problem = f"the run was {done} to {self.reporter.url}: {reason}"

    def _report(self) -> None:
        if self.refused and not self.gave_up:
            first, _ = self.refused[0]
            lost = sum(n for _, n in self.refused)
            self.reporter.problem = (
                f"the run was only partly reported to {self.reporter.url}: the server refused "
                f"{len(self.refused)} batch{'es' if len(self.refused) != 1 else ''} "
                f"({lost} results): {first}"
            )


def _ends(event: object) -> bool:
    """Whether `event` ends the run: `RunFinished`, or its wire form."""
    if isinstance(event, dict):
        return event.get("type") == "run.finished"
    return isinstance(event, RunFinished)


def _live_attempt(attempt: dict[str, Any]) -> dict[str, Any]:
    """An attempt with each output cut to its tail: live views show no more of it."""
    trimmed = dict(attempt)
    for stream in ("stdout", "stderr"):
        output = attempt.get(stream)
        if output and len(output["text"]) > _LIVE_TAIL:
            trimmed[stream] = {**output, "text": output["text"][-_LIVE_TAIL:], "truncated": True}
    return trimmed


def _message(body: bytes) -> str:
    """The message of the server's error body, or the start of whatever it sent."""
    try:
        found = json.loads(body)
        return str(found["error"]["message"])
    except (ValueError, KeyError, TypeError):
        text = body.decode("utf-8", "replace").strip()
        return text.splitlines()[0][:200] if text else "no message"


def _seconds(value: str | None) -> float | None:
    """A `Retry-After` in seconds (its other form, an HTTP date, is not worth reading)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
