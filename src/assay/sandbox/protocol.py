"""The `Sandbox` seam: how a test's process is started, watched and contained.

Runners describe a process with a `ProcessRequest`; a sandbox runs it to the
end and answers with a `ProcessOutcome`. The `process` sandbox is the
default; `bwrap` and `container` sandboxes implement the same protocol.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from assay.model import Isolation, Limits


@dataclass(frozen=True, slots=True)
class ProcessRequest:
    """One process to run: what, where, with which open files as its streams, and limits.

    `stdout` and `stderr` are descriptors of files on disk that the caller owns;
    the process writes to them directly, so no output passes through Assay.
    """

    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str]
    stdout: int
    stderr: int
    stdin: int | None = None
    timeout: float | None = None
    idle_timeout: float | None = None
    grace: float = 2.0
    limits: Limits = field(default_factory=Limits)
    label: str = ""
    isolation: Isolation = field(default_factory=Isolation)
    """Which sandbox runs it and how; `Sandboxes` picks the implementation."""
    workdir: Path | None = None
    """The attempt's work directory (`cwd` is in it): the writable place in `bwrap` and
    `container` sandboxes."""


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    """How a process ended.

    `stopped` says why Assay ended it (`timeout`, `idle`, `cancelled`), and
    `error` why it could not start at all (for example, no such program).
    """

    started_at: datetime
    duration: float
    exit_code: int | None = None
    signal: int | None = None
    stopped: str | None = None
    error: str | None = None
    leftovers: int = 0


class Cancellation:
    """A flag that wakes every waiting sandbox at once, such as on Ctrl-C or a run deadline."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._lock = threading.Lock()
        self.reason: str | None = None

    def fileno(self) -> int:
        """A descriptor that becomes readable once cancelled; poll it with the process."""
        return self._read

    def cancel(self, reason: str) -> None:
        """Cancel everything still running, for `reason`."""
        if self.reason is None:
            self.reason = reason
            # Another thread may cancel a run just as it ends and closes this.
            with self._lock, contextlib.suppress(OSError):
                if self._write >= 0:
                    os.write(self._write, b"x")

    @property
    def cancelled(self) -> bool:
        """Whether `cancel` was called."""
        return self.reason is not None

    def close(self) -> None:
        """Release the descriptors (once; closing again does nothing)."""
        with self._lock:
            fds, self._read, self._write = (self._read, self._write), -1, -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)


class Execution(Protocol):
    """A started process that its owner drives to the end without blocking.

    The owner polls `fileno()` (readable when the process has something to
    report, or -1 when there is nothing to poll) and calls `advance` when it
    is readable, when `wake_at()` has passed, or when the run is cancelled.
    `advance` returns the outcome once every process of the test is gone.
    """

    def fileno(self) -> int:
        """A descriptor to poll for readability, or -1."""
        ...

    def wake_at(self) -> float | None:
        """The `time.monotonic()` by which `advance` must be called again, if any."""
        ...

    def advance(self, now: float, cancel: Cancellation) -> ProcessOutcome | None:
        """Move on: notice an exit, enforce deadlines, end leftovers; the outcome when done."""
        ...


class Sandbox(Protocol):
    """Starts a process, enforces its deadlines and limits, and leaves nothing behind."""

    name: str

    def start(self, request: ProcessRequest) -> Execution | ProcessOutcome:
        """Start `request`; a `ProcessOutcome` with `error` set if it could not start."""
        ...

    def close(self) -> None:
        """Kill whatever is left of every process this sandbox started."""
        ...


def run_to_end(sandbox: Sandbox, request: ProcessRequest, cancel: Cancellation) -> ProcessOutcome:
    """Start `request` and wait for its outcome: the blocking form of the protocol."""
    execution = sandbox.start(request)
    if isinstance(execution, ProcessOutcome):
        return execution
    return wait(execution, cancel)


def wait(execution: Execution, cancel: Cancellation) -> ProcessOutcome:
    """Drive one execution to its end, blocking this thread."""
    import select
    import time

    while True:
        heeded = cancel.cancelled  # the `advance` below sees it
        outcome = execution.advance(time.monotonic(), cancel)
        if outcome is not None:
            return outcome
        wake, fd = execution.wake_at(), execution.fileno()
        poller = select.poll()
        if fd >= 0:
            poller.register(fd, select.POLLIN)
        # A cancellation's descriptor stays readable: once `advance` has seen it, polling
        # it would spin until the process group is gone, unless nothing else says when.
        if not heeded or (fd < 0 and wake is None):
            poller.register(cancel.fileno(), select.POLLIN)
        poller.poll(None if wake is None else max(0.0, wake - time.monotonic()) * 1000)
