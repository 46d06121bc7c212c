"""Runs executed on threads of this process: the default dispatcher.

Each run gets a thread of a bounded pool; runs beyond the pool's size wait
in its queue with the status `queued`. The engine does the heavy lifting on
its own loop thread, so a small pool runs many tests at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from assay.api import collect, execute_recorded, open_store
from assay.config import Settings
from assay.dispatch.requests import Observe, RunRequest, Suites
from assay.engine import Handler
from assay.model import CommandTest
from assay.sandbox import Cancellation
from assay.store import writes
from assay.store.connections import host_pid


@dataclass(slots=True)
class _Job:
    run_id: int
    tests: list[CommandTest]
    request: RunRequest
    handlers: Sequence[Handler]
    cancel: Cancellation = field(default_factory=Cancellation)
    started: bool = False


class InProcessPool:
    """Executes runs on `workers` threads; `observe` adds handlers to each run (live feeds)."""

    def __init__(
        self,
        settings: Settings,
        *,
        workers: int = 2,
        observe: Observe | None = None,
        finished: Callable[[int, str | None], None] | None = None,
    ) -> None:
        self.settings = settings.merge(record=True)
        self.suites = Suites.of(settings)
        self.observe = observe
        self.finished = finished
        """Called with a run's id once it is stored, and a reason if it never ran."""
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="assay-run")
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, request: RunRequest) -> int:
        """Check the suite (spec errors are raised now) and queue its run; returns the id."""
        path = self.suites.resolve(request.suite)
        settings = self.settings.merge(jobs=request.jobs, timeout=request.timeout)
        tests = collect([path], keyword=request.keyword, tags=request.tags, settings=settings)
        run_id = self._queue(request)
        # Observers see the run from the moment it is queued (a live feed is open at once).
        handlers = self.observe(run_id) if self.observe else ()
        job = _Job(run_id, tests, request, handlers)
        with self._lock:
            if self._closed:
                raise RuntimeError("the dispatcher is closed")
            self._jobs[run_id] = job
        future: Future[None] = self._executor.submit(self._run, job, settings)
        future.add_done_callback(lambda _: self._forget(run_id))
        return run_id

    def _run(self, job: _Job, settings: Settings) -> None:
        reason: str | None = None
        try:
            reason = self._execute(job, settings)
        except Exception as error:  # a bug: the run is closed, and the pool carries on
            reason = f"internal error: {type(error).__name__}: {error}"
            with contextlib.suppress(Exception):
                self._finish_unstarted(job, reason)
        finally:
            if self.finished is not None:
                self.finished(job.run_id, reason)

    def _queue(self, request: RunRequest) -> int:
        store = open_store(self.settings)
        host, pid = host_pid()
        info = writes.RunInfo(
            trigger=request.trigger,
            started_at=time.time(),
            host=host,
            pid=pid,
            options=request.options(),
        )
        connection = store.connect()
        try:
            project = writes.project_id(connection, store.project, info.started_at)
            run_id = writes.start_run(connection, project, info, status="queued")
            connection.commit()
        finally:
            connection.close()
            store.close()
        return run_id

    def _execute(self, job: _Job, settings: Settings) -> str | None:
        """Run a job; the reason it did not run, if it did not."""
        with self._lock:
            job.started = True
        if job.cancel.cancelled:
            reason = f"cancelled: {job.cancel.reason}"
            self._finish_unstarted(job, reason)
            job.cancel.close()  # the engine closes it for a run that starts
            return reason
        # A recording problem is returned, not warned: it ends the run with its reason.
        _, recorder = execute_recorded(
            job.tests,
            settings,
            job.handlers,
            trigger=job.request.trigger,
            options=job.request.options(),
            run_id=job.run_id,
            cancel=job.cancel,
        )
        if recorder is not None and recorder.error:
            reason = f"the run could not be recorded: {recorder.error}"
            self._finish_unstarted(job, reason)
            return reason
        return None

    def _finish_unstarted(self, job: _Job, reason: str) -> None:
        """Close a run that never ran (cancelled while queued) or was not recorded."""
        store = open_store(self.settings)
        connection = store.connect()
        try:
            now = time.time()
            writes.finish_run(
                connection,
                job.run_id,
                finished_at=now,
                duration=0.0,
                interrupted=reason,
            )
            connection.commit()
        finally:
            connection.close()
            store.close()

    def _forget(self, run_id: int) -> None:
        with self._lock:
            self._jobs.pop(run_id, None)

    def cancel(self, run_id: int, reason: str = "cancelled by a user") -> bool:
        """Stop a queued or running run; its processes are killed with their trees."""
        with self._lock:
            job = self._jobs.get(run_id)
        if job is None:
            return False
        job.cancel.cancel(reason)
        return True

    def active(self) -> list[int]:
        """The runs queued or running, oldest first."""
        with self._lock:
            return sorted(self._jobs)

    def queue_depth(self) -> int:
        """How many runs wait for a free thread."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if not job.started)

    def close(self) -> None:
        """Cancel every queued and running run, and wait for them to stop."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.cancel("the server is shutting down")
        self._executor.shutdown(wait=True)
