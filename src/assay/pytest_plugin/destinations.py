"""Where a recorded pytest session goes: Assay's store, or an Assay server.

Both take the same calls from the recording thread: `open` when the
session starts, `begin` with its tests once they are collected, `write`
for each batch of results, then `close` (or `abort`, when recording gives
up). The store is written through `assay.store.writes`, a transaction per
batch, as `assay run` records: a killed pytest leaves whole batches and a
`running` run that names its host and process, which the next
`Store.connect` marks `interrupted`. A server gets the run's wire events
through `RemoteReporter`, which batches, compresses and retries them.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from assay.model.records import ResultRecord

if TYPE_CHECKING:
    from assay.config import Settings
    from assay.pytest_plugin.recording import RecordingOptions
    from assay.store.connections import Connection


class Destination(Protocol):
    """Somewhere a session's results are stored: every call comes from one thread."""

    @property
    def problem(self) -> str | None:
        """What went wrong on the destination's own side, said in full, if anything did."""
        ...

    def open(self, started_at: float) -> None:
        """Start the run, before anything else."""
        ...

    def begin(self, tests: Sequence[tuple[int, str, object]]) -> None:
        """The session's tests: (position, node id, pytest's location or None)."""
        ...

    def write(self, batch: Sequence[tuple[int, ResultRecord]]) -> None:
        """Store or send a batch of `(position, result)`."""
        ...

    def close(self, duration: float, interrupted: str | None, counts: dict[str, int]) -> None:
        """End the run: it took `duration` seconds, and stopped early if `interrupted` says why."""
        ...

    def abort(self, reason: str) -> None:
        """End the run as interrupted after a problem, as far as that still works."""
        ...

    def summary(self, results: int) -> str:
        """The line that says where the session went."""
        ...

    def failure(self, problem: str) -> str:
        """What `problem`, met while recording, meant for the run."""
        ...


def open_destination(config: pytest.Config, options: RecordingOptions) -> Destination:
    """The destination the options name, with the project's settings (its assay.toml)."""
    from assay.config import load_settings

    settings = load_settings(config.rootpath).merge(database_url=options.database_url)
    source = command_line(config.invocation_params.args)
    if options.report_to is None:
        return StoreDestination(settings, source)
    workers = getattr(config.option, "numprocesses", None)
    return ServerDestination(
        options.report_to,
        options.token,
        project=settings.project_name,
        checkout=settings.root,
        patience=options.patience,
        source=source,
        jobs=workers if isinstance(workers, int) and workers > 0 else 1,
    )


def command_line(args: Sequence[str]) -> str:
    """The session's pytest command, for the run's source, without its secrets."""
    from assay.store.connections import redact

    shown = ["pytest"]
    hide = False
    for arg in args:
        if hide:
            shown.append("***")
        elif arg.startswith("--assay-token="):
            shown.append("--assay-token=***")
        else:
            # A database's or server's URL may carry a user and password.
            shown.append(redact(arg) if "://" in arg else arg)
        hide = arg == "--assay-token"
    return shlex.join(shown)


class StoreDestination:
    """Assay's store (the project's database), written a transaction per batch."""

    def __init__(self, settings: Settings, source: str) -> None:
        from assay.store import Store
        from assay.store.connections import redact

        # As `assay.api.open_store` opens it; importing `assay.api` would load the engine too.
        artifacts = settings.state_dir / "artifacts"
        self.store = Store(settings.database, artifacts, settings.project_name)
        self.root = settings.root
        self.source = source
        self.url = redact(settings.database)
        self.run_id: int | None = None
        self._connection: Connection | None = None
        self._project = 0
        self._started_at = 0.0

    @property
    def problem(self) -> str | None:
        """Problems with the store raise instead."""
        return None

    def open(self, started_at: float) -> None:
        """Insert the run as `running` on this host and process, and commit it at once."""
        from assay.store import writes
        from assay.store.connections import host_pid
        from assay.store.provenance import git_info, is_dirty

        self._started_at = started_at
        connection = self._connection = self.store.connect()
        host, pid = host_pid()
        git = git_info(self.root, check_dirty=False)
        self._project = writes.project_id(connection, self.store.project, started_at)
        info = writes.RunInfo(
            trigger="pytest",
            started_at=started_at,
            source=self.source,
            host=host,
            pid=pid,
            branch=git.branch,
            commit=git.commit,
        )
        self.run_id = writes.start_run(connection, self._project, info)
        connection.commit()
        if git.branch or git.commit:
            # After the commit: `git status` can take a while in a big checkout.
            writes.set_dirty(connection, self.run_id, is_dirty(self.root))

    def begin(self, tests: Sequence[tuple[int, str, object]]) -> None:
        """Results are numbered already: the store needs nothing before them."""

    def write(self, batch: Sequence[tuple[int, ResultRecord]]) -> None:
        """Insert the batch and commit it."""
        from assay.store import writes

        connection, run_id = self._open()
        writes.write_results(
            connection, self._project, run_id, batch, self.store.artifacts, time.time()
        )
        connection.commit()

    def close(self, duration: float, interrupted: str | None, counts: dict[str, int]) -> None:
        """Count the results into the run, set its status and commit."""
        from assay.store import writes

        connection, run_id = self._open()
        try:
            writes.finish_run(
                connection,
                run_id,
                finished_at=self._started_at + duration,
                duration=duration,
                interrupted=interrupted,
            )
            connection.commit()
        finally:
            self._release()

    def abort(self, reason: str) -> None:
        """Finish the run as interrupted, if the database still lets us."""
        from assay.store import writes

        try:
            if self._connection is not None and self.run_id is not None:
                self._connection.rollback()
                writes.finish_run(
                    self._connection,
                    self.run_id,
                    finished_at=time.time(),
                    duration=max(0.0, time.time() - self._started_at),
                    interrupted=f"recording failed: {reason}",
                )
                self._connection.commit()
        finally:
            self._release()

    def summary(self, results: int) -> str:
        """`assay: recorded run 12 (N results) into URL`."""
        return f"assay: recorded run {self.run_id} ({_results(results)}) into {self.url}"

    def failure(self, problem: str) -> str:
        """Not recorded at all, or only partly."""
        if self.run_id is None:
            return f"the session was not recorded into {self.url}: {problem}"
        return f"run {self.run_id} was only partly recorded into {self.url}: {problem}"

    def _open(self) -> tuple[Connection, int]:
        assert self._connection is not None and self.run_id is not None, "open() first"
        return self._connection, self.run_id

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                connection.close()
        finally:
            self.store.close()


class ServerDestination:
    """An Assay server, sent wire events through `RemoteReporter` (`assay run --report-to`)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        project: str,
        checkout: Path,
        patience: float,
        source: str,
        jobs: int,
    ) -> None:
        from assay.reports.remote import RemoteReporter

        self.url = url
        self.jobs = jobs
        self.reporter = RemoteReporter(
            url,
            token,
            project=project,
            options={"source": source},
            checkout=checkout,
            patience=patience,
        )
        self._started_at = 0.0

    @property
    def run_id(self) -> int | None:
        """The run's id on the server, once it was started there."""
        return self.reporter.run_id

    @property
    def problem(self) -> str | None:
        """What the reporter could not send, said in full."""
        return self.reporter.problem

    def open(self, started_at: float) -> None:
        """Nothing to send yet: the run starts on the server with its tests."""
        self._started_at = started_at

    def begin(self, tests: Sequence[tuple[int, str, object]]) -> None:
        """Send `run.started` with the tests, which the dashboard counts down."""
        from assay.importers.reportlog import node_record
        from assay.reports.wire import test_document

        documents = [
            {"position": position, **test_document(node_record(nodeid, location))}
            for position, nodeid, location in tests
        ]
        self._send(
            {
                "type": "run.started",
                "started_at": self._started_at,
                "jobs": self.jobs,
                "tests": documents,
            }
        )

    def write(self, batch: Sequence[tuple[int, ResultRecord]]) -> None:
        """Queue a `test.finished` for each result; the reporter makes its own batches."""
        from assay.reports.wire import record_document

        for position, result in batch:
            self._send(
                {"type": "test.finished", "position": position, "result": record_document(result)}
            )

    def close(self, duration: float, interrupted: str | None, counts: dict[str, int]) -> None:
        """Send `run.finished` and wait until everything is sent, or the reporter gives up."""
        from assay.reports.wire import run_finished

        self._send(run_finished(duration, interrupted, counts))

    def abort(self, reason: str) -> None:
        """End the run on the server as interrupted."""
        duration = max(0.0, time.time() - self._started_at)
        self.close(duration, f"recording failed: {reason}", {})

    def summary(self, results: int) -> str:
        """`assay: sent run 12 (N results) to URL`."""
        return f"assay: sent run {self.run_id} ({_results(results)}) to {self.url}"

    def failure(self, problem: str) -> str:
        """Not sent at all, or only partly."""
        done = "only partly reported" if self.reporter.sent else "not reported"
        return f"the session was {done} to {self.url}: {problem}"

    def _send(self, event: dict[str, Any]) -> None:
        self.reporter.handle(event)


def _results(count: int) -> str:
    return f"{count} result{'' if count == 1 else 's'}"
