"""The `process` sandbox: a new session and process group per test, on this host.

Output goes straight from the process to files (no pipes to drain). A
started process is an `_Execution`: a small state machine that the engine's
single loop drives with `poll` on pidfds, so hundreds of tests run at once
without a thread each, and Assay wakes exactly when a process ends or a
deadline passes.

    running ──exit──▶ leftovers? ──no──▶ done
       │                  │yes
       │                  └─▶ TERM group ─ empty or grace ─▶ KILL group ─▶ done
       └─timeout/idle/cancel─▶ TERM group ─ empty or grace ─▶ KILL group ─▶ done

"done" also sweeps strays that left the group (see `reaper`).
"""

from __future__ import annotations

import contextlib
import enum
import errno
import itertools
import os
import shutil
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from typing import Protocol

from assay.sandbox import reaper
from assay.sandbox.groups import group_alive, reap_group, signal_group
from assay.sandbox.limits import limited_argv
from assay.sandbox.protocol import (
    Cancellation,
    ProcessOutcome,
    ProcessRequest,
    run_to_end,
)

_IDLE_CHECK = 0.25
_GROUP_CHECK = 0.01
_LEFTOVER_GRACE = 1.0
_KILL_WAIT = 5.0
_ids = itertools.count(1)


class ProcessSandbox:
    """Runs each command in its own session; TERM, grace, then KILL on timeout."""

    name = "process"

    def __init__(self) -> None:
        self.run_id = f"{os.getpid()}-{time.monotonic_ns()}"
        self.subreaper = reaper.become_subreaper()
        self._bytes: dict[str, bytes] = {}
        self._programs: dict[tuple[str, str | None], str] = {}
        self._devnull = -1
        self._devnull_lock = threading.Lock()
        self._running: dict[int, subprocess.Popen[bytes]] = {}  # outcome not yet taken

    def execute(self, request: ProcessRequest, cancel: Cancellation) -> ProcessOutcome:
        """Run `request` to its end, blocking; never leaves a process of it alive."""
        return run_to_end(self, request, cancel)

    def start(self, request: ProcessRequest) -> _Execution | ProcessOutcome:
        """Start `request`; an outcome with `error` if the program cannot be started."""
        attempt_id = f"{self.run_id}-{next(_ids)}"
        started_at = datetime.now(UTC)
        start = time.monotonic()
        unrunnable = _unrunnable(request)
        if unrunnable:
            return ProcessOutcome(started_at, 0.0, error=unrunnable)
        argv = limited_argv(request.argv, request.limits)
        try:
            proc = subprocess.Popen(
                argv,
                executable=self._program(argv[0], request.env.get("PATH")),
                cwd=request.cwd,
                env=self._environment(request.env, attempt_id),
                stdin=self._null() if request.stdin is None else request.stdin,
                stdout=request.stdout,
                stderr=request.stderr,
                start_new_session=True,
            )
        except OSError as error:
            return ProcessOutcome(
                started_at,
                time.monotonic() - start,
                error=f"cannot run {request.argv[0]!r}: {error.strerror or error}",
            )
        reaper.leaders.add(proc.pid)
        self._running[proc.pid] = proc
        return _Execution(self, proc, request, attempt_id, started_at, start)

    def close(self) -> None:
        """Kill every process this sandbox started that is still there, strays included."""
        # Only an interrupted or broken caller leaves leaders behind: nobody will end them.
        while self._running:
            _pid, proc = self._running.popitem()
            signal_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait(_KILL_WAIT)
            reaper.leaders.discard(proc.pid)
        reaper.sweep(self.run_id + "-", prefix=True)
        with self._devnull_lock:
            if self._devnull >= 0:
                os.close(self._devnull)
                self._devnull = -1

    def _null(self) -> int:
        """`/dev/null`, opened once (Popen's DEVNULL opens and closes it for every process)."""
        with self._devnull_lock:
            if self._devnull < 0:
                self._devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            return self._devnull

    def _environment(self, env: dict[str, str], attempt_id: str) -> dict[bytes, bytes]:
        # Popen encodes every variable of every test; most are the same each time.
        cache = self._bytes
        encoded = {}
        for key, value in env.items():
            k = cache.get(key) or cache.setdefault(key, os.fsencode(key))
            encoded[k] = cache.get(value) or cache.setdefault(value, os.fsencode(value))
        encoded[reaper.COOKIE.encode()] = attempt_id.encode()
        return encoded

    def _program(self, name: str, path: str | None) -> str | None:
        """The program's full path, found once per PATH (Popen would search each time)."""
        if "/" in name:
            return None
        key = (name, path)
        found = self._programs.get(key)
        if found is None:
            found = shutil.which(name, path=path)
            if found is None:
                return None  # let exec report it
            self._programs[key] = found
        return found


class _State(enum.Enum):
    RUNNING = "running"
    ENDING = "ending"  # TERM sent to the group; waiting for it to empty or the grace to pass
    KILLED = "killed"  # KILL sent; waiting for the kernel to finish the job


class _Execution:
    """One started process group, driven to its end by `advance`."""

    def __init__(
        self,
        sandbox: ProcessSandbox,
        proc: subprocess.Popen[bytes],
        request: ProcessRequest,
        attempt_id: str,
        started_at: datetime,
        start: float,
    ) -> None:
        self.sandbox = sandbox
        self.proc = proc
        self.request = request
        self.attempt_id = attempt_id
        self.started_at = started_at
        self.start = start
        self.deadline = start + request.timeout if request.timeout else None
        self.state = _State.RUNNING
        self.stopped: str | None = None
        self.ended_at: float | None = None
        self.leftovers = 0
        self.state_deadline = 0.0
        self.last_size = -1
        self.last_change = start
        self.checked_at = start
        self.pidfd = -1
        with contextlib.suppress(OSError):
            self.pidfd = os.pidfd_open(proc.pid)

    def fileno(self) -> int:
        """The pidfd while the main process runs (readable when it exits), else -1."""
        return self.pidfd if self.proc.returncode is None else -1

    def wake_at(self) -> float | None:
        """When `advance` is next due without an event.

        Periodic wakes count from the last `advance`, not from now: a wake that
        moves on each time it is asked is never due to a caller that compares
        it with the time it took before asking.
        """
        if self.state is not _State.RUNNING or self.pidfd < 0:
            # Nothing signals that a group has emptied (or, without a pidfd, that the
            # leader has exited): look again shortly.
            return self.checked_at + _GROUP_CHECK
        idle = self._idle_wake()
        if idle is None or self.deadline is None:
            return self.deadline if idle is None else idle
        return min(self.deadline, idle)

    def _idle_wake(self) -> float | None:
        if not self.request.idle_timeout:
            return None
        return min(self.last_change + self.request.idle_timeout, self.checked_at + _IDLE_CHECK)

    def advance(self, now: float, cancel: Cancellation) -> ProcessOutcome | None:
        """Notice an exit, enforce deadlines, end leftovers; the outcome once all are gone."""
        self.checked_at = now
        self._reap_leader()
        if self.state is _State.RUNNING:
            if self.proc.returncode is None:
                reason = self._why_stop(now, cancel)
                if reason is None:
                    return None
                self.stopped = reason
                self._end_group(now, self.request.grace)
            elif group_alive(self.proc.pid):
                self.leftovers = 1
                self._end_group(now, min(self.request.grace, _LEFTOVER_GRACE))
            else:
                return self._finish()
        if self.proc.returncode is not None:
            # Only now: waitpid on the group could otherwise reap the leader and
            # take its exit status away from Popen.
            reap_group(self.proc.pid)
        alive = self.proc.returncode is None or group_alive(self.proc.pid)
        if not alive:
            return self._finish()
        if now >= self.state_deadline:
            if self.state is _State.ENDING:
                signal_group(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    self.proc.kill()
                self.state = _State.KILLED
                self.state_deadline = now + _KILL_WAIT
            else:  # the kernel has not removed them within seconds: stop waiting
                return self._finish()
        return None

    def _reap_leader(self) -> None:
        if self.proc.returncode is None and self.proc.poll() is not None:
            self.ended_at = time.monotonic()
            reaper.leaders.discard(self.proc.pid)

    def _why_stop(self, now: float, cancel: Cancellation) -> str | None:
        return why_stop(self, now, cancel)

    def _end_group(self, now: float, grace: float) -> None:
        signal_group(self.proc.pid, signal.SIGTERM)
        self.state = _State.ENDING
        self.state_deadline = now + grace

    def _finish(self) -> ProcessOutcome:
        pidfd, self.pidfd = self.pidfd, -1
        if pidfd >= 0:
            os.close(pidfd)
        if self.proc.returncode is None:  # gave up waiting; make sure it is reaped eventually
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(0.1)
        reaper.leaders.discard(self.proc.pid)
        self.sandbox._running.pop(self.proc.pid, None)
        strays = reaper.sweep(self.attempt_id)
        code = self.proc.returncode if self.proc.returncode is not None else -signal.SIGKILL
        end = self.ended_at or time.monotonic()
        return ProcessOutcome(
            started_at=self.started_at,
            duration=end - self.start,
            exit_code=code if code >= 0 else None,
            signal=-code if code < 0 else None,
            stopped=self.stopped,
            leftovers=self.leftovers + strays,
        )


def _unrunnable(request: ProcessRequest) -> str | None:
    """Why `request`'s program cannot be run, when a shim would start it; else None."""
    # With limits, the program is started by a shim, which would turn a program that
    # cannot be run into exit 127; look first so both paths report the same error.
    if not request.limits.any():
        return None
    program = request.argv[0]
    if "/" in program:
        path = request.cwd / program  # exec runs after the change to `cwd`
        if not path.exists():
            code = errno.ENOENT
        elif not path.is_file() or not os.access(path, os.X_OK):
            code = errno.EACCES
        else:
            return None
    elif shutil.which(program, path=request.env.get("PATH")) is None:
        code = errno.ENOENT
    else:
        return None
    return f"cannot run {program!r}: {os.strerror(code)}"


class Watched(Protocol):
    """An execution whose deadlines `why_stop` enforces (its output growth is tracked on it)."""

    request: ProcessRequest
    deadline: float | None
    last_size: int
    last_change: float


def why_stop(execution: Watched, now: float, cancel: Cancellation) -> str | None:
    """Why a running execution must be stopped now: `timeout`, `cancelled`, `idle`, or None."""
    if execution.deadline is not None and now >= execution.deadline:
        return "timeout"
    if cancel.cancelled:
        return "cancelled"
    request = execution.request
    if request.idle_timeout:
        size = os.fstat(request.stdout).st_size + os.fstat(request.stderr).st_size
        if size != execution.last_size:
            execution.last_size, execution.last_change = size, now
        elif now - execution.last_change >= request.idle_timeout:
            return "idle"
    return None
