"""Recording a run as it happens: an event handler that writes in batches.

The engine's thread only puts events on a queue. A writer thread opens the
database, inserts the run (status `running`), and commits results in
batches, every `BATCH` results or `FLUSH` seconds, whichever comes first.
Each commit is a transaction, so a killed Assay leaves whole batches and a
`running` run behind, which the next `Store.connect` marks `interrupted`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assay.errors import UserError
from assay.model import Event, Result, RunFinished, RunStarted, TestFinished
from assay.model.records import ResultRecord
from assay.store import writes
from assay.store.connections import Connection, host_pid
from assay.store.provenance import git_info, is_dirty
from assay.store.store import Store

BATCH = 500
FLUSH = 0.5

_STOP = object()


class Recorder:
    """Records every run it sees into `store`; never fails the run it records.

    Problems (an unreachable database, a full disk) are kept in `error` for
    the caller to report as a warning once the run is over.
    """

    def __init__(
        self,
        store: Store,
        *,
        trigger: str = "cli",
        options: dict[str, Any] | None = None,
        checkout: Path | None = None,
        clock: Callable[[], float] = time.time,
        run_id: int | None = None,
    ) -> None:
        self.store = store
        self.trigger = trigger
        self.options = options
        self.checkout = checkout
        self.clock = clock
        self.run_id = run_id
        """The run's id: given for a run queued beforehand, else known once it is written."""
        self.error: str | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._positions: dict[str, int] = {}

    def handle(self, event: Event) -> None:
        """Queue what the writer needs; on `RunFinished`, wait until it is written."""
        if isinstance(event, TestFinished):
            # The engine's thread does as little as it can: records are built by the writer.
            position = self._positions.get(event.result.test.id, len(self._positions))
            self._queue.put((position, event.result))
        elif isinstance(event, RunStarted):
            self._positions = {test.id: i for i, test in enumerate(event.tests)}
            self._thread = threading.Thread(
                target=self._write,
                args=(event.started_at.timestamp(),),
                name="assay-recorder",
                # A run that dies with an exception never sends RunFinished; the
                # process must still be able to exit. Committed batches are kept.
                daemon=True,
            )
            self._thread.start()
        elif isinstance(event, RunFinished) and self._thread is not None:
            self._queue.put(event)
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def _write(self, started_at: float) -> None:
        connection: Connection | None = None
        try:
            connection = self.store.connect()
            run_id = self._start(connection, started_at)
            self._drain(connection, run_id)
        except Exception as error:  # recording must never take the run down with it
            self.error = describe(error)
            if connection is not None:
                quietly(connection.rollback)
        finally:
            if connection is not None:
                quietly(connection.close)
            # The engine's pool would keep a PostgreSQL connection open for as long as
            # the store lives; a process that runs many times (`assay.run`) must not
            # collect one per run.
            quietly(self.store.close)

    def _start(self, connection: Connection, started_at: float) -> int:
        host, pid = host_pid()
        project = writes.project_id(connection, self.store.project, self.clock())
        git = git_info(self.checkout or Path.cwd(), check_dirty=False)
        info = writes.RunInfo(
            trigger=self.trigger,
            started_at=started_at,
            host=host,
            pid=pid,
            branch=git.branch,
            commit=git.commit,
            options=self.options,
        )
        if self.run_id is None:
            self.run_id = writes.start_run(connection, project, info)
        else:
            writes.begin_run(connection, self.run_id, info)
        connection.commit()
        self._project = project
        self._dirty: bool | None = None
        # `git status` can take a while in a big checkout: it runs beside the tests.
        self._dirty_check = threading.Thread(target=self._check_dirty, daemon=True)
        if git.branch or git.commit:
            self._dirty_check.start()
        return self.run_id

    def _check_dirty(self) -> None:
        self._dirty = is_dirty(self.checkout or Path.cwd())

    def _drain(self, connection: Connection, run_id: int) -> None:
        pending: list[tuple[int, Result]] = []
        deadline: float | None = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._flush(connection, run_id, pending)
                pending, deadline = [], None
                continue
            if isinstance(item, tuple):
                pending.append(item)
                deadline = deadline or time.monotonic() + FLUSH
                if len(pending) >= BATCH:
                    self._flush(connection, run_id, pending)
                    pending, deadline = [], None
                continue
            self._flush(connection, run_id, pending)
            pending, deadline = [], None
            if isinstance(item, RunFinished):
                self._finish(connection, run_id, item)
            else:
                return

    def _flush(
        self, connection: Connection, run_id: int, pending: list[tuple[int, Result]]
    ) -> None:
        if not pending:
            return
        records = [(position, ResultRecord.of(result)) for position, result in pending]
        writes.write_results(
            connection, self._project, run_id, records, self.store.artifacts, self.clock()
        )
        connection.commit()

    def _finish(self, connection: Connection, run_id: int, event: RunFinished) -> None:
        if self._dirty_check.ident is not None:  # it was started
            self._dirty_check.join()
        writes.set_dirty(connection, run_id, self._dirty)
        result = event.result
        writes.finish_run(
            connection,
            run_id,
            finished_at=result.started_at.timestamp() + result.duration,
            duration=result.duration,
            interrupted=result.interrupted,
        )
        connection.commit()


def describe(error: Exception) -> str:
    """An error in one line: a user's error as it says, any other with its type."""
    if isinstance(error, UserError):
        return str(error)
    # A database error's text carries the whole statement and its parameters (test
    # output, even); the driver's first line says what went wrong.
    cause = getattr(error, "orig", None) or error
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}"


def quietly(action: Callable[[], object]) -> None:
    """Run a clean-up step of something already failing; its own error is dropped."""
    # Already failing: the first error is the one to report.
    with contextlib.suppress(Exception):
        action()
