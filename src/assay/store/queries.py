"""Reading history back: runs, results, attempts and the samples analysis needs.

Every function takes the `Store` and returns plain frozen dataclasses, so the
callers (`history/`, reports, the CLI) never see a database row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, desc, func, select, tuple_

from assay.errors import NotFoundError
from assay.model import Outcome
from assay.store.rows import AttemptRow, ProjectRow, ResultRow, RunRow, TestRow
from assay.store.store import Store

BAD = ("failed", "error", "timeout")


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One recorded run, with its totals."""

    id: int
    project: str
    status: str
    trigger: str
    source: str | None
    host: str | None
    branch: str | None
    commit: str | None
    dirty: bool | None
    started_at: datetime
    duration: float | None
    total: int
    passed: int
    failed: int
    errors: int
    timeouts: int
    skipped: int
    flaky: int
    reason: str | None

    @property
    def failed_ratio(self) -> float:
        """The share of tests that failed, errored or timed out."""
        ran = self.total - self.skipped
        return (self.failed + self.errors + self.timeouts) / ran if ran else 0.0


@dataclass(frozen=True, slots=True)
class StoredAttempt:
    """One attempt as stored: verdict, failures and the tail of each log."""

    number: int
    outcome: str
    started_at: datetime | None
    duration: float
    exit_code: int | None
    signal: str | None
    failures: tuple[dict[str, str], ...]
    notes: tuple[str, ...]
    stdout_tail: str | None
    stdout_size: int
    stdout_artifact: str | None
    stderr_tail: str | None
    stderr_size: int
    stderr_artifact: str | None


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One test's result in a run; `attempts` is filled only when asked for."""

    run_id: int
    position: int
    key: str
    name: str
    suite: str
    kind: str
    file: str | None
    line: int | None
    outcome: str
    flaky: bool
    duration: float
    reason: str | None
    message: str | None
    attempts: tuple[StoredAttempt, ...] = ()


def when(timestamp: float | None) -> datetime | None:
    """A stored epoch time as an aware UTC datetime."""
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def _project_filter(store: Store) -> Any:
    return RunRow.project_id == (
        select(ProjectRow.id).where(ProjectRow.name == store.project).scalar_subquery()
    )


def _run(row: Any) -> StoredRun:
    return StoredRun(
        id=row.id,
        project=row.project,
        status=row.status,
        trigger=row.trigger,
        source=row.source,
        host=row.host,
        branch=row.branch,
        commit=row.commit,
        dirty=row.dirty,
        started_at=datetime.fromtimestamp(row.started_at, UTC),
        duration=row.duration,
        total=row.total,
        passed=row.passed,
        failed=row.failed,
        errors=row.errors,
        timeouts=row.timeouts,
        skipped=row.skipped,
        flaky=row.flaky,
        reason=row.reason,
    )


def _runs_query() -> Any:
    return select(RunRow.__table__, ProjectRow.name.label("project")).join(
        ProjectRow, ProjectRow.id == RunRow.project_id
    )


def list_runs(
    store: Store,
    *,
    limit: int = 20,
    status: str | None = None,
    branch: str | None = None,
    trigger: str | None = None,
    before: int | None = None,
    since: float | None = None,
    until: float | None = None,
    after: tuple[float, int] | None = None,
    oldest_first: bool = False,
) -> list[StoredRun]:
    """The project's runs, newest first (or oldest first), filtered.

    `before`: only ids below this one. `since`/`until`: started in that
    range (epoch seconds, inclusive/exclusive). `after` is a keyset cursor,
    the `(started_at, id)` of the last run of the previous page.
    """
    query = _runs_query().where(ProjectRow.name == store.project)
    for column, value in (
        (RunRow.status, status),
        (RunRow.branch, branch),
        (RunRow.trigger, trigger),
    ):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(RunRow.id < before)
    if since is not None:
        query = query.where(RunRow.started_at >= since)
    if until is not None:
        query = query.where(RunRow.started_at < until)
    key = tuple_(RunRow.started_at, RunRow.id)
    if after is not None:
        # A cursor's time went through a datetime, which keeps microseconds only; the
        # run's stored time is exact (while it exists), and a rounded one repeats or skips.
        at, last = after
        earlier = RunRow.__table__.alias("earlier")
        exact = func.coalesce(
            select(earlier.c.started_at).where(earlier.c.id == last).scalar_subquery(), at
        )
        position = tuple_(exact, last)
        query = query.where(key > position if oldest_first else key < position)
    order = (RunRow.started_at, RunRow.id)
    query = query.order_by(*(order if oldest_first else (desc(c) for c in order))).limit(limit)
    with store.engine.connect() as connection:
        return [_run(row) for row in connection.execute(query)]


def run_project(store: Store, run_id: int) -> str:
    """The name of the project run `run_id` belongs to; `NotFoundError` if there is no such run."""
    query = select(ProjectRow.name).join(RunRow, RunRow.project_id == ProjectRow.id)
    with store.engine.connect() as connection:
        name = connection.execute(query.where(RunRow.id == run_id)).scalar()
    if name is None:
        raise NotFoundError(f"no run {run_id}")
    return str(name)


def list_projects(store: Store) -> list[tuple[str, int, datetime | None]]:
    """Every project: its name, how many runs it has, and when the last one started."""
    query = (
        select(ProjectRow.name, func.count(RunRow.id), func.max(RunRow.started_at))
        .outerjoin(RunRow, RunRow.project_id == ProjectRow.id)
        .group_by(ProjectRow.id, ProjectRow.name)
        .order_by(ProjectRow.name)
    )
    with store.engine.connect() as connection:
        return [(name, int(n), when(last)) for name, n, last in connection.execute(query)]


@dataclass(frozen=True, slots=True)
class StoredTest:
    """A test as history knows it: identity and when it was first and last seen."""

    __test__ = False

    key: str
    name: str
    suite: str
    kind: str
    file: str | None
    line: int | None
    first_seen: datetime
    last_seen: datetime


def list_tests(
    store: Store, *, search: str | None = None, after: str | None = None, limit: int = 50
) -> list[StoredTest]:
    """The project's tests by id; `after` is the id of the previous page's last test."""
    query = (
        select(TestRow.__table__)  # rows, not ORM objects: this is a Core connection
        .join(ProjectRow, ProjectRow.id == TestRow.project_id)
        .where(ProjectRow.name == store.project)
        .order_by(TestRow.key)
        .limit(limit)
    )
    if search:
        # Ignoring case on every backend: SQLite's LIKE does, PostgreSQL's does not.
        query = query.where(TestRow.key.icontains(search, autoescape=True))
    if after is not None:
        query = query.where(TestRow.key > after)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        StoredTest(
            r.key,
            r.name,
            r.suite,
            r.kind,
            r.file,
            r.line,
            datetime.fromtimestamp(r.first_seen, UTC),
            datetime.fromtimestamp(r.last_seen, UTC),
        )
        for r in rows
    ]


def resolve_run(store: Store, ref: str) -> int:
    """A run id from `last`, `last~N` or a number; `last` is the run recorded most recently.

    Recorded, not started: an imported file may describe a run from last week.
    """
    text = ref.strip().lower()
    if text.isdecimal():
        run_id = int(text)
        get_run(store, run_id)
        return run_id
    back = 0
    if text.startswith("last~") and text[5:].isdecimal():
        back, text = int(text[5:]), "last"
    if text != "last":
        raise NotFoundError(f"no run {ref!r}: give a run id, 'last' or 'last~N'")
    query = (
        select(RunRow.id).where(_project_filter(store)).order_by(desc(RunRow.id)).limit(back + 1)
    )
    with store.engine.connect() as connection:
        ids = [row[0] for row in connection.execute(query)]
    if len(ids) <= back:
        raise NotFoundError(
            "no runs recorded yet" if not ids else f"only {len(ids)} runs are recorded"
        )
    return int(ids[back])


def get_run(store: Store, run_id: int) -> StoredRun:
    """One run of this project; `NotFoundError` if there is none with that id.

    A run still `running` has no totals stored yet (they are counted when it
    finishes), so its totals are counted from the results stored so far.
    """
    query = _runs_query().where(RunRow.id == run_id, ProjectRow.name == store.project)
    with store.engine.connect() as connection:
        row = connection.execute(query).first()
        if row is None:
            raise NotFoundError(f"no run {run_id} in project {store.project!r}")
        run = _run(row)
        if run.status != "running":
            return run
        counted = select(ResultRow.outcome, func.count(), func.sum(ResultRow.flaky.cast(Integer)))
        so_far = {
            outcome: (int(n), int(flaky or 0))
            for outcome, n, flaky in connection.execute(
                counted.where(ResultRow.run_id == run_id).group_by(ResultRow.outcome)
            )
        }
    return replace(
        run,
        total=sum(n for n, _ in so_far.values()),
        passed=so_far.get("passed", (0, 0))[0],
        failed=so_far.get("failed", (0, 0))[0],
        errors=so_far.get("error", (0, 0))[0],
        timeouts=so_far.get("timeout", (0, 0))[0],
        skipped=so_far.get("skipped", (0, 0))[0],
        flaky=sum(f for _, f in so_far.values()),
    )


def results(
    store: Store,
    run_id: int,
    *,
    outcomes: Sequence[str] = (),
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    with_attempts: bool = False,
    after: tuple[float, int] | int | None = None,
    slowest_first: bool = False,
) -> list[StoredResult]:
    """A run's results in report order (or slowest first), filtered, with or without attempts.

    `after` is a keyset cursor: the previous page's last position, or its
    `(duration, position)` when slowest first.
    """
    query = (
        select(
            ResultRow.__table__,
            TestRow.key,
            TestRow.name,
            TestRow.suite,
            TestRow.kind,
            TestRow.file,
            TestRow.line,
        )
        .join(TestRow, TestRow.id == ResultRow.test_id)
        .where(ResultRow.run_id == run_id)
    )
    if slowest_first:
        query = query.order_by(desc(ResultRow.duration), ResultRow.position)
        if isinstance(after, tuple):
            duration, position = after
            query = query.where(
                (ResultRow.duration < duration)
                | ((ResultRow.duration == duration) & (ResultRow.position > position))
            )
    else:
        query = query.order_by(ResultRow.position)
        if isinstance(after, int):
            query = query.where(ResultRow.position > after)
    if outcomes:
        query = query.where(ResultRow.outcome.in_(list(outcomes)))
    if search:  # ignoring case, as `list_tests`
        query = query.where(TestRow.key.icontains(search, autoescape=True))
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    with store.engine.connect() as connection:
        rows = list(connection.execute(query))
        attempts = (
            _attempts(connection, run_id, [r.position for r in rows]) if with_attempts else {}
        )
    return [
        StoredResult(
            run_id=run_id,
            position=r.position,
            key=r.key,
            name=r.name,
            suite=r.suite,
            kind=r.kind,
            file=r.file,
            line=r.line,
            outcome=r.outcome,
            flaky=bool(r.flaky),
            duration=r.duration,
            reason=r.reason,
            message=r.message,
            attempts=tuple(attempts.get(r.position, ())),
        )
        for r in rows
    ]


def _attempts(connection: Any, run_id: int, positions: list[int]) -> dict[int, list[StoredAttempt]]:
    found: dict[int, list[StoredAttempt]] = {}
    for chunk in _chunks(positions, 500):
        query = (
            select(AttemptRow)
            .where(AttemptRow.run_id == run_id, AttemptRow.position.in_(chunk))
            .order_by(AttemptRow.position, AttemptRow.number)
        )
        for a in connection.execute(query):
            found.setdefault(a.position, []).append(
                StoredAttempt(
                    number=a.number,
                    outcome=a.outcome,
                    started_at=when(a.started_at),
                    duration=a.duration,
                    exit_code=a.exit_code,
                    signal=a.signal,
                    failures=tuple(json.loads(a.failures)) if a.failures else (),
                    notes=tuple(json.loads(a.notes)) if a.notes else (),
                    stdout_tail=a.stdout_tail,
                    stdout_size=a.stdout_size,
                    stdout_artifact=a.stdout_artifact,
                    stderr_tail=a.stderr_tail,
                    stderr_size=a.stderr_size,
                    stderr_artifact=a.stderr_artifact,
                )
            )
    return found


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class StoredSample:
    """One test's result in one recent run, as analysis needs it."""

    test_id: str
    run_id: int
    run_started_at: datetime
    commit: str | None
    run_failed_ratio: float
    outcome: Outcome
    flaky: bool
    duration: float
    message: str | None

    @property
    def at(self) -> datetime:
        """When the run started (the time analyses place the result at)."""
        return self.run_started_at


def samples(
    store: Store,
    *,
    runs: int = 30,
    key: str | None = None,
    outcomes: Sequence[str] = (),
    run_ids: Sequence[int] | None = None,
) -> list[StoredSample]:
    """Results of the project's last `runs` finished runs (one test's, with `key`), oldest first.

    With `run_ids`, the results of those runs instead.

    Run-level facts are read once per run, and result rows as bare tuples:
    analysis over a 30-run window of a large suite reads tens of thousands
    of rows, and per-row overhead is most of its cost.
    """
    recent = (
        select(
            RunRow.id,
            RunRow.started_at,
            RunRow.commit,
            RunRow.total,
            RunRow.skipped,
            RunRow.failed,
            RunRow.errors,
            RunRow.timeouts,
        )
        .where(_project_filter(store), RunRow.status != "running")
        .order_by(desc(RunRow.started_at), desc(RunRow.id))
    )
    recent = (
        recent.where(RunRow.id.in_(list(run_ids))) if run_ids is not None else recent.limit(runs)
    )
    with store.engine.connect() as connection:
        facts: dict[int, tuple[int, datetime, str | None, float]] = {}
        for order, (run_id, started, commit, total, skipped, failed, errors, timeouts) in enumerate(
            reversed(connection.execute(recent).all())
        ):
            ran = total - skipped
            ratio = (failed + errors + timeouts) / ran if ran else 0.0
            facts[run_id] = (order, datetime.fromtimestamp(started, UTC), commit, ratio)
        if not facts:
            return []
        query = (
            select(
                TestRow.key,
                ResultRow.run_id,
                ResultRow.outcome,
                ResultRow.flaky,
                ResultRow.duration,
                ResultRow.message,
            )
            .join(TestRow, TestRow.id == ResultRow.test_id)
            .where(ResultRow.run_id.in_(list(facts)))
            .order_by(ResultRow.run_id, ResultRow.position)
        )
        if key is not None:
            test_ids = select(TestRow.id).join(ProjectRow, ProjectRow.id == TestRow.project_id)
            query = query.where(
                ResultRow.test_id.in_(
                    test_ids.where(ProjectRow.name == store.project, TestRow.key == key)
                )
            )
        if outcomes:
            query = query.where(ResultRow.outcome.in_(list(outcomes)))
        rows = connection.execute(query).all()
    by_value = {o.value: o for o in Outcome}
    found = []
    for test_key, run_id, outcome, flaky, duration, message in rows:
        order, started, commit, ratio = facts[run_id]
        found.append(
            (
                order,
                StoredSample(
                    test_key,
                    run_id,
                    started,
                    commit,
                    ratio,
                    by_value[outcome],
                    bool(flaky),
                    duration,
                    message,
                ),
            )
        )
    found.sort(key=lambda pair: pair[0])  # stable: report order within a run is kept
    return [sample for _, sample in found]


def test_history(store: Store, key: str, *, limit: int = 50) -> list[StoredSample]:
    """One test's most recent results, oldest first; `NotFoundError` for an unknown test."""
    with store.engine.connect() as connection:
        known = connection.execute(
            select(TestRow.id)
            .join(ProjectRow, ProjectRow.id == TestRow.project_id)
            .where(ProjectRow.name == store.project, TestRow.key == key)
        ).first()
    if known is None:
        raise NotFoundError(f"no test {key!r} in project {store.project!r}")
    return samples(store, runs=limit, key=key)


test_history.__test__ = False  # type: ignore[attr-defined]


def latest_outcomes(store: Store, *, runs: int = 20) -> dict[str, str]:
    """Each test's most recent outcome over the last `runs` runs (for --last-failed)."""
    latest: dict[str, str] = {}
    for sample in samples(store, runs=runs):
        if sample.outcome is not Outcome.SKIPPED:
            latest[sample.test_id] = sample.outcome.value
    return latest


def mean_durations(store: Store, *, runs: int = 10) -> dict[str, float]:
    """Each test's mean duration over its results in the last `runs` runs."""
    totals: dict[str, list[float]] = {}
    for sample in samples(store, runs=runs):
        if sample.outcome is not Outcome.SKIPPED:
            totals.setdefault(sample.test_id, []).append(sample.duration)
    return {key: sum(d) / len(d) for key, d in totals.items()}


def count_rows(store: Store) -> dict[str, int]:
    """How many runs, results and artifacts are stored (all projects)."""
    from assay.store.rows import ArtifactRow

    with store.engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in (
                ("runs", RunRow),
                ("results", ResultRow),
                ("artifacts", ArtifactRow),
            )
        }
