"""The `container` sandbox: a test's command in a container, through the Docker Engine API.

Docker and Podman (its Docker-compatible service) both work. The command
runs in the isolation's image as a non-root user, with the work directory
mounted read-write at the same path, no network, and the memory, CPU and
process limits of the container engine (cgroups).

The engine's loop must never wait on the API, so each container has a
thread of its own that creates it, copies its output to the test's files
as it arrives, waits for its end and removes it. The thread tells the loop
that it is done through a pipe, whose read end is the execution's
`fileno()`. Deadlines and cancelling stop the container (TERM, grace,
KILL, done by the engine) from another short-lived thread. Every container
carries a label naming this sandbox, so `close` can remove any that is
left. The calls to the engine themselves are in `engines`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assay.sandbox.engines import Engine
from assay.sandbox.process import why_stop
from assay.sandbox.protocol import Cancellation, ProcessOutcome, ProcessRequest, wait

LABEL = "assay.run"
"""The label on every container: this sandbox's id (`<pid>-<ns>`), for `close` to find them."""
DEFAULT_USER = "65534:65534"
"""`nobody`: the user a test runs as unless `user` says otherwise."""
_IDLE_CHECK = 0.25
_GIVE_UP = 30.0  # after the grace, how long a stopped container may take to be gone
_JOIN = 5.0
_KILLED = 128 + 9  # the status of a container whose main process SIGKILL ended
_ids = itertools.count(1)


class ContainerSandbox:
    """Runs each command in a container of its isolation's image, removed afterwards."""

    name = "container"

    def __init__(self, host: str | None = None) -> None:
        """Connect to `host` (a Docker URL), else `DOCKER_HOST`, else a default socket.

        Raises `UserError` when the `docker` package is missing or nothing answers.
        """
        self.run_id = f"{os.getpid()}-{time.monotonic_ns()}"
        self.engine = Engine.connect(host)
        self._images: set[str] = set()
        self._running: set[_Execution] = set()
        self._lock = threading.Lock()

    def execute(self, request: ProcessRequest, cancel: Cancellation) -> ProcessOutcome:
        """Run `request` to its end, blocking."""
        started = self.start(request)
        return started if isinstance(started, ProcessOutcome) else wait(started, cancel)

    def start(self, request: ProcessRequest) -> _Execution | ProcessOutcome:
        """Start `request` in a container; an outcome with `error` if that cannot be done."""
        started_at, start = datetime.now(UTC), time.monotonic()
        image = request.isolation.image
        if not image:
            return ProcessOutcome(started_at, 0.0, error="sandbox 'container': no image given")
        if image not in self._images:
            problem = self.engine.image_problem(image)
            if problem:
                return ProcessOutcome(started_at, time.monotonic() - start, error=problem)
            self._images.add(image)
        try:
            spec = self._spec(request, image)
        except OSError as error:
            message = f"sandbox 'container': cannot hand the work dir over: {error}"
            return ProcessOutcome(started_at, time.monotonic() - start, error=message)
        execution = _Execution(self, request, spec, started_at, start)
        with self._lock:
            self._running.add(execution)
        execution.thread.start()
        return execution

    def close(self) -> None:
        """Stop every container started here, remove them all, and disconnect."""
        with self._lock:
            running, self._running = list(self._running), set()
        for execution in running:
            execution.stop_now()
        for container in self.engine.labelled(f"{LABEL}={self.run_id}"):
            self.engine.remove(container)
        for execution in running:
            execution.thread.join(_JOIN)
        self.engine.close()

    def _spec(self, request: ProcessRequest, image: str) -> _Spec:
        user = request.isolation.user or DEFAULT_USER
        workdir = request.workdir or request.cwd
        mounts = [str(workdir)]
        if not request.cwd.is_relative_to(workdir):
            mounts.append(str(request.cwd))
        owner = None if request.workdir is None else _hand_over(request.workdir, user)
        attempt = f"{self.run_id}-{next(_ids)}"
        return _Spec(image, user, tuple(mounts), attempt, self.run_id, owner)

    def _forget(self, execution: _Execution) -> None:
        with self._lock:
            self._running.discard(execution)


@dataclass(frozen=True, slots=True)
class _Spec:
    image: str
    user: str
    mounts: tuple[str, ...]
    attempt: str
    run_id: str
    owner: tuple[Path, int, int] | None  # a work dir handed over, and who owned it before


class _Execution:
    """One container, run by its own thread and driven by the engine's loop through a pipe."""

    def __init__(
        self,
        sandbox: ContainerSandbox,
        request: ProcessRequest,
        spec: _Spec,
        started_at: datetime,
        start: float,
    ) -> None:
        self.sandbox = sandbox
        self.engine = sandbox.engine
        self.request = request
        self.spec = spec
        self.started_at = started_at
        self.start = start
        self.deadline = start + request.timeout if request.timeout else None
        self._read, self._write = os.pipe()
        # The thread's own descriptors of the streams' files: the caller may close its
        # own once the outcome is given, and one that gave up waiting must not write.
        self.outputs = {1: os.dup(request.stdout), 2: os.dup(request.stderr)}
        self.stdin = -1 if request.stdin is None else os.dup(request.stdin)
        self.abandoned = False
        self.thread = threading.Thread(target=self._run, name=f"assay-{spec.attempt}", daemon=True)
        self._lock = threading.Lock()
        self.container: str | None = None
        self.running = False  # started, as far as stopping it is concerned
        self.stop_asked = False
        self.stopped: str | None = None
        self.stopping_since: float | None = None
        self.status: int | None = None
        self.oom = False  # killed by the kernel for going over the memory limit
        self.error: str | None = None
        self.ended_at: float | None = None
        self.checked_at = start
        self.last_size = -1
        self.last_change = start

    def fileno(self) -> int:
        """Readable once the container is gone; -1 after the outcome was given."""
        return self._read

    def wake_at(self) -> float | None:
        """The next deadline, idle check or, while stopping, when to stop waiting."""
        if self.stopping_since is not None:
            return self.stopping_since + self.request.grace + _GIVE_UP
        wakes = [w for w in (self.deadline, self._idle_wake()) if w is not None]
        return min(wakes) if wakes else None

    def _idle_wake(self) -> float | None:
        if not self.request.idle_timeout:
            return None
        return min(self.last_change + self.request.idle_timeout, self.checked_at + _IDLE_CHECK)

    def advance(self, now: float, cancel: Cancellation) -> ProcessOutcome | None:
        """Notice the end, or stop the container on a deadline or cancel; the outcome when gone."""
        self.checked_at = now
        if not self.thread.is_alive() and self._read >= 0:
            return self._finish()
        if self.stopping_since is None:
            reason = why_stop(self, now, cancel)
            if reason is not None:
                self.stopped, self.stopping_since = reason, now
                threading.Thread(target=self._stop, args=(self.request.grace,), daemon=True).start()
        elif now >= self.stopping_since + self.request.grace + _GIVE_UP:
            self.abandoned = True
            self.error = f"sandbox 'container': the container did not stop within {_GIVE_UP:.0f} s"
            return self._finish()
        return None

    def stop_now(self) -> None:
        """Make sure the container is not started (from `close`, which removes it)."""
        self.stopped = self.stopped or "cancelled"
        with self._lock:
            self.stop_asked = True

    def _stop(self, grace: float) -> None:
        with self._lock:
            self.stop_asked = True
            container = self.container if self.running else None
        if container is not None:
            with contextlib.suppress(*self.engine.failures):
                self.engine.stop(container, grace)

    def _run(self) -> None:
        """The thread: create, attach, start, copy output, wait, and always remove."""
        try:
            self._contain()
        except self.engine.failures as error:
            self.error = self.engine.describe(error, self.request, self.spec.image)
        except Exception as error:  # nothing may escape a thread unseen
            self.error = f"sandbox 'container': {type(error).__name__}: {error}"
        finally:
            if self.container is not None:
                self.engine.remove(self.container)
            if self.spec.owner is not None:
                # Back to Assay's user, with what the test made: a work dir is reused by
                # later tests, and root in `bwrap` has no right to write in others' dirs.
                with contextlib.suppress(OSError):
                    _chown_tree(*self.spec.owner)
            for fd in (*self.outputs.values(), self.stdin):
                if fd >= 0:
                    os.close(fd)
            self.ended_at = self.ended_at or time.monotonic()
            with self._lock:  # the loop may have given up on this container and closed it
                if self._write >= 0:
                    os.write(self._write, b"x")

    def _contain(self) -> None:
        request = self.request
        spec = self.spec
        labels = {LABEL: spec.run_id, "assay.attempt": spec.attempt}
        container = self.engine.create(request, spec.image, spec.user, spec.mounts, labels)
        with self._lock:
            self.container = container
        stream = self.engine.attach(container, stdin=request.stdin is not None)
        try:
            with self._lock:  # a stop asked for before the start must win
                if self.stop_asked:
                    return
                self.engine.start(container)
                self.running = True
            if self.stdin >= 0:
                stdin, self.stdin = self.stdin, -1  # the sending thread closes it
                threading.Thread(target=stream.send, args=(stdin,), daemon=True).start()
            for kind, data in stream.frames():
                if self.abandoned:
                    break
                _write_all(self.outputs.get(kind, self.outputs[2]), data)
        finally:
            stream.close()
        self.status = self.engine.wait(container)
        self.ended_at = time.monotonic()
        if self.status == _KILLED and self.engine.out_of_memory(container):
            self.oom = True

    def _finish(self) -> ProcessOutcome:
        with self._lock:
            for fd in (self._read, self._write):
                os.close(fd)
            self._read = self._write = -1
        self.sandbox._forget(self)
        duration = (self.ended_at or time.monotonic()) - self.start
        if self.error is not None:
            return ProcessOutcome(self.started_at, duration, error=self.error)
        code = self.status if self.status is not None else -1
        if code < 0:
            # Stopped before it started, or gone without a status.
            return ProcessOutcome(self.started_at, duration, stopped=self.stopped)
        # A container's status is 128+N when signal N killed its main process; only a stop
        # by Assay or the engine's word on memory says so (a program may exit 137 itself).
        killed = (self.stopped is not None or self.oom) and code > 128
        return ProcessOutcome(
            started_at=self.started_at,
            duration=duration,
            exit_code=None if killed else code,
            signal=code - 128 if killed else None,
            stopped=self.stopped,
        )


def _hand_over(workdir: Path, user: str) -> tuple[Path, int, int] | None:
    """Let the container's user write in the (fresh) work dir; who owned it, if that changed.

    Root gives the directory and what it holds to a numeric user; others can
    only open the directory itself to everyone.
    """
    uid, _, gid = user.partition(":")
    if os.geteuid() == 0 and uid.isdigit() and (not gid or gid.isdigit()):
        before = workdir.stat()
        _chown_tree(workdir, int(uid), int(gid) if gid else -1)
        return workdir, before.st_uid, before.st_gid
    workdir.chmod(0o777)
    return None


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    os.chown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
