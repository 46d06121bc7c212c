"""The Python API behind `assay.run`: load, select, execute, record, report, import."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from assay.config import Settings, load_settings
from assay.engine import Handler, RunOptions, execute, select
from assay.model import CommandTest, RunResult
from assay.runners import RunnerConfig

if TYPE_CHECKING:
    from assay.sandbox import Cancellation
    from assay.store import Recorder, Store


class RecordingWarning(UserWarning):
    """A run could not be recorded in Assay's database; the run itself is unaffected."""


@dataclass(frozen=True, slots=True)
class HistorySelection:
    """Selection from recorded history: `--last-failed`, `--failed-first`, `--shard K/N`."""

    last_failed: bool = False
    failed_first: bool = False
    shard: tuple[int, int] | None = None

    def __bool__(self) -> bool:
        return self.last_failed or self.failed_first or self.shard is not None


def open_store(settings: Settings) -> Store:
    """The configured store (database URL and artifacts) for the configured project."""
    from assay.store import Store

    return Store(settings.database, settings.state_dir / "artifacts", settings.project_name)


def collect(
    paths: Sequence[str | Path] | None = None,
    *,
    keyword: str | None = None,
    tags: Iterable[str] = (),
    settings: Settings | None = None,
    history: HistorySelection | None = None,
) -> list[CommandTest]:
    """The tests a run would execute, in run order; raises `SpecError` for bad files."""
    from assay import spec

    settings = settings or load_settings()
    chosen = [Path(p) for p in paths] if paths else [settings.root / p for p in settings.paths]
    # Ids are relative to the project root, not to where `assay` happens to run:
    # history, flaky scores and --last-failed are keyed on them.
    loaded = spec.load(chosen, exclude=settings.exclude, cwd=settings.root)
    tests = select(loaded, keyword, tags)
    if history:
        store = open_store(settings)
        try:
            tests = _from_history(tests, history, store)
        finally:
            store.close()
    return tests


def _from_history(
    tests: list[CommandTest], history: HistorySelection, store: Store
) -> list[CommandTest]:
    from assay.engine import needs_groups
    from assay.history import failed_first, last_failed, shard
    from assay.store import queries

    ids = [t.id for t in tests]
    failing = {k for k, o in queries.latest_outcomes(store).items() if o in queries.BAD}
    if history.last_failed and failing & set(ids):
        ids = last_failed(ids, failing)
        tests = select(tests, ids=set(ids))
        ids = [t.id for t in tests]
    if history.shard is not None:
        index, total = history.shard
        ids = shard(ids, queries.mean_durations(store), index, total, needs_groups(tests))
    if history.failed_first:
        ids = failed_first(ids, failing)
    by_id = {t.id: t for t in tests}
    return [by_id[i] for i in ids]


def run(
    paths: Sequence[str | Path] | None = None,
    *,
    jobs: int | None = None,
    keyword: str | None = None,
    tags: Iterable[str] = (),
    timeout: float | None = None,
    update_snapshots: bool = False,
    record: bool | None = None,
    last_failed: bool = False,
    failed_first: bool = False,
    shard: tuple[int, int] | None = None,
    junit: str | Path | None = None,
    json: str | Path | None = None,
    handlers: Sequence[Handler] = (),
    settings: Settings | None = None,
    report_to: str | None = None,
    token: str | None = None,
) -> RunResult:
    """Run the suites under `paths` (default: the configured paths) and return the results.

    The run is recorded in Assay's database unless `record=False` (or the
    `record` setting is off); `RunResult.run_id` is its id there. A failure to
    record warns with `RecordingWarning` and never fails the run.

    Raises `SpecError` (listing every problem) if any test file is malformed,
    before anything runs, `ConfigError` for an invalid setting such as `jobs=0`,
    and `ReportWriteError` after the run if a report could not be written (the
    others still are).

    With `report_to` (a server's URL) and a `token` with the `run` scope, the
    run is also sent to that server as it happens (see docs/remote-runs.md);
    a failure to report warns with `RecordingWarning` too.
    """
    settings = (settings or load_settings()).merge(jobs=jobs, timeout=timeout, record=record)
    history = HistorySelection(last_failed, failed_first, shard)
    tests = collect(paths, keyword=keyword, tags=tags, settings=settings, history=history)
    remote = None
    if report_to is not None:
        from assay.reports.remote import RemoteReporter

        remote = RemoteReporter(
            report_to, token, project=settings.project_name, checkout=settings.root
        )
        handlers = [*handlers, remote]
    result, recorder = execute_recorded(tests, settings, handlers, update_snapshots)
    if recorder is not None and recorder.error:
        warnings.warn(f"the run was not recorded: {recorder.error}", RecordingWarning, 2)
    if remote is not None and remote.problem:
        warnings.warn(remote.problem, RecordingWarning, 2)
    if junit is not None or json is not None:
        from assay import __version__
        from assay.reports import write_reports

        write_reports(
            result,
            version=__version__,
            junit=None if junit is None else Path(junit),
            json=None if json is None else Path(json),
        )
    return result


def execute_recorded(
    tests: Sequence[CommandTest],
    settings: Settings,
    handlers: Sequence[Handler] = (),
    update_snapshots: bool = False,
    *,
    trigger: str = "api",
    options: dict[str, Any] | None = None,
    run_id: int | None = None,
    cancel: Cancellation | None = None,
) -> tuple[RunResult, Recorder | None]:
    """Execute `tests`, recording the run when the settings say so.

    `run_id` names a run queued beforehand (a server's), which this one
    starts; `cancel` lets another thread stop the run.
    """
    if not settings.record:
        engine_options = run_options(settings, update_snapshots)
        return execute(tests, engine_options, handlers, cancel=cancel), None
    from assay.store import Recorder

    store = open_store(settings)
    recorder = Recorder(
        store, trigger=trigger, options=options, checkout=settings.root, run_id=run_id
    )
    chain = [*handlers, recorder]  # last: the console prints the summary before the wait
    incoming = store.artifacts.incoming
    result = execute(
        tests, run_options(settings, update_snapshots, logs_dir=incoming), chain, cancel=cancel
    )
    if recorder.error:
        _discard_saved_logs(incoming)
    elif recorder.run_id is not None:
        result = replace(result, run_id=recorder.run_id)
    return result, recorder


def _discard_saved_logs(incoming: Path) -> None:
    """Remove the whole logs this process saved for a recorder that failed to store them."""
    import os

    for path in incoming.glob(f"{os.getpid()}-*"):
        path.unlink(missing_ok=True)


def run_options(
    settings: Settings, update_snapshots: bool = False, logs_dir: Path | None = None
) -> RunOptions:
    """Engine options from settings; `logs_dir` is where whole logs are saved for a recorder."""
    return RunOptions(
        jobs=settings.jobs,
        timeout=settings.timeout,
        keep_tmp=settings.keep_tmp,
        tmp_dir=settings.tmp_dir,
        runner=RunnerConfig(
            update_snapshots=update_snapshots,
            strip_ansi=settings.strip_ansi,
            timeout=settings.test_timeout,
            idle_timeout=settings.idle_timeout,
            grace=settings.kill_grace,
            keep_tmp=settings.keep_tmp,
            logs_dir=logs_dir,
        ),
    )


@dataclass(frozen=True, slots=True)
class Imported:
    """What `import_results` stored: the new run and what was read."""

    run_id: int
    cases: int
    by_outcome: dict[str, int]
    unknown_elements: dict[str, int]
    partial: str | None = None


IMPORT_FORMATS = ("junit", "reportlog")
_IMPORT_BATCH = 5000


def import_results(
    paths: Sequence[str | Path],
    *,
    format: str = "junit",
    partial: bool = False,
    settings: Settings | None = None,
    source: str | None = None,
) -> Imported:
    """Store the results in foreign report files (JUnit XML, pytest report log) as one run.

    Files are streamed in bounded memory. A malformed or truncated file raises
    `ReportFormatError` (naming the file and line) and stores nothing, unless
    `partial` is set: then what was read before the problem is kept and the
    run is marked `interrupted` with the reason. `source` is what the run
    says it came from (default: the files' paths).
    """
    import time

    from assay.errors import UsageError
    from assay.importers import ImportStats, read_junit, read_reportlog
    from assay.store import writes
    from assay.store.connections import host_pid

    if format not in IMPORT_FORMATS:
        raise UsageError(f"unknown import format {format!r}: choose {' or '.join(IMPORT_FORMATS)}")
    reader = read_junit if format == "junit" else read_reportlog
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    store = open_store(settings or load_settings())
    stats = ImportStats()
    started = time.time()
    connection = store.connect()
    try:
        project = writes.project_id(connection, store.project, started)
        host, _ = host_pid()
        info = writes.RunInfo(
            trigger="import",
            started_at=started,
            source=source or ", ".join(map(str, files)),
            host=host,
        )
        run_id = writes.start_run(connection, project, info)
        # This thread reads and turns records into statements; the writer runs them.
        writer: _Writer[list[writes.Statement]] = _Writer(lambda s: writes.apply(connection, s))

        def write(batch: list[tuple[int, Any]]) -> None:
            writer.put(
                writes.result_statements(
                    connection.dialect, project, run_id, batch, store.artifacts, started
                )
            )

        try:
            problem = _read_batches(files, lambda path: reader(path, stats), write, partial)
        except BaseException:
            writer.abandon()
            raise
        writer.close()
        began = stats.started_at.timestamp() if stats.started_at else started
        connection.execute(
            "UPDATE runs SET started_at = :at WHERE id = :id", {"at": began, "id": run_id}
        )
        duration = sum(
            r[0] or 0.0
            for r in connection.query(
                "SELECT SUM(duration) FROM results WHERE run_id = :id", {"id": run_id}
            )
        )
        writes.finish_run(
            connection,
            run_id,
            finished_at=began + duration,
            duration=duration,
            interrupted=problem or stats.interrupted,
        )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
        store.close()
    return Imported(
        run_id, stats.cases, dict(stats.by_outcome), dict(stats.unknown_elements), problem
    )


def _read_batches(
    files: list[Path],
    reader: Callable[[Path], Iterable[Any]],
    write: Callable[[list[tuple[int, Any]]], None],
    partial: bool,
) -> str | None:
    """Pass every file's records to `write` in numbered batches; returns why, if partial."""
    from assay.errors import ReportFormatError

    problem = None
    batch: list[tuple[int, Any]] = []
    position = 0
    try:
        for path in files:
            for record in reader(path):
                batch.append((position, record))
                position += 1
                if len(batch) >= _IMPORT_BATCH:
                    write(batch)
                    batch = []
    except ReportFormatError as error:
        if not partial:
            raise
        problem = f"partial import: {error}"
    if batch:
        write(batch)
    return problem


_Batch = TypeVar("_Batch")


class _Writer(Generic[_Batch]):
    """Stores an import's batches on a thread of its own while the caller reads on.

    SQLite runs each statement with the GIL released (see `assay.store.writes`),
    so reading the next batch overlaps with storing this one. At most two
    batches wait, which bounds memory. The caller owns the transaction, and
    uses the connection again only after `close` or `abandon`.
    """

    def __init__(self, run: Callable[[_Batch], None]) -> None:
        import queue
        import threading

        self._run_batch = run
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._abandoned = False
        # A daemon, so that nothing here can keep the process alive after an error.
        self._thread = threading.Thread(target=self._work, name="assay-import", daemon=True)
        self._thread.start()

    def put(self, batch: _Batch) -> None:
        """Queue `batch`; raises what storing an earlier batch raised."""
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        """Wait until every queued batch is stored; raises what storing one raised."""
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop once the batch being stored is done, dropping the rest and any error."""
        self._abandoned = True
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        # After an error, batches are still taken off the queue, so that `put` never blocks.
        while (batch := self._queue.get()) is not None:
            if self._error is None and not self._abandoned:
                try:
                    self._run_batch(batch)
                except BaseException as error:  # raised again on the reading thread
                    self._error = error

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
