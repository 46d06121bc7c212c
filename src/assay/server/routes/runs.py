"""Runs: list and filter, start, cancel, read one, its results, and compare two."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AwareDatetime

from assay.dispatch import RunRequest
from assay.errors import NotFoundError
from assay.history.compare import Change
from assay.history.stored import compare_runs
from assay.server import pages
from assay.server.auth import Reader, Runner
from assay.server.errors import ERROR_RESPONSES
from assay.server.schemas import (
    MAX_ID,
    ChangeRead,
    ComparisonRead,
    ResultRead,
    RunCreate,
    RunCreated,
    RunRead,
    SlowdownRead,
    SuiteRead,
    Text,
    result_read,
)
from assay.server.state import AppState, state_of
from assay.store import Store, queries

router = APIRouter(prefix="/api/v1", tags=["runs"], responses=ERROR_RESPONSES)

Outcome = Literal["passed", "failed", "error", "timeout", "skipped"]
Limit = Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)]
# Bounded, so that a number the database cannot hold is a 422, not an overflow in the driver.
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
Position = Annotated[int, Path(ge=0, le=MAX_ID)]


def run_store(state: AppState, run_id: int) -> Store:
    """The store seen as the project that run `run_id` belongs to; 404 if there is none."""
    return state.project_store(queries.run_project(state.store, run_id))


@router.get("/runs", response_model=pages.Page[RunRead], summary="List runs")
async def list_runs(
    request: Request,
    _: Reader,
    project: Text | None = None,
    status: Literal["queued", "running", "passed", "failed", "interrupted"] | None = None,
    branch: Text | None = None,
    trigger: Text | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    sort: Literal["-started_at", "started_at"] = "-started_at",
    limit: Limit = pages.DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Response:
    """A project's runs, newest first by default, filtered by status, branch, trigger and date.

    `since` (inclusive) and `until` (exclusive) need an offset, such as `Z`: a bare
    time would be read in the server's zone.
    """
    state = state_of(request)
    after = pages.decode(cursor, float, int)
    found = await state.read(
        queries.list_runs,
        state.project_store(project),
        limit=limit + 1,
        status=status,
        branch=branch,
        trigger=trigger,
        since=None if since is None else since.timestamp(),
        until=None if until is None else until.timestamp(),
        after=None if after is None else (after[0], after[1]),
        oldest_first=sort == "started_at",
    )
    more = len(found) > limit
    items = found[:limit]
    last = items[-1] if more else None
    return pages.respond(
        pages.Page[RunRead](
            items=[RunRead.model_validate(r) for r in items],
            next=None if last is None else pages.encode([last.started_at.timestamp(), last.id]),
        )
    )


@router.post("/runs", status_code=202, response_model=RunCreated, summary="Start a run of a suite")
def start_run(request: Request, response: Response, body: RunCreate, caller: Runner) -> RunCreated:
    """Queue a run of a registered suite; it executes on the server's dispatcher."""
    state = state_of(request)
    run_id = state.dispatcher.submit(
        RunRequest(
            suite=body.suite,
            keyword=body.keyword,
            tags=tuple(body.tags),
            jobs=body.jobs,
            timeout=body.timeout,
            started_by=caller.name,
        )
    )
    url = f"/api/v1/runs/{run_id}"
    response.headers["Location"] = url
    return RunCreated(id=run_id, status="queued", url=url, events=f"{url}/events")


@router.get("/suites", response_model=list[SuiteRead], summary="Suites that can be started")
def suites(request: Request, _: Reader) -> list[SuiteRead]:
    """The suite paths `POST /runs` accepts."""
    return [SuiteRead(path=p) for p in state_of(request).suites.names()]


@router.get("/runs/{run_id}", response_model=RunRead, summary="Get a run")
def get_run(request: Request, run_id: RunId, _: Reader) -> RunRead:
    """One run with its totals."""
    state = state_of(request)
    return RunRead.model_validate(queries.get_run(run_store(state, run_id), run_id))


@router.post(
    "/runs/{run_id}/cancel", status_code=202, response_model=RunRead, summary="Cancel a run"
)
def cancel_run(request: Request, run_id: RunId, _: Runner) -> RunRead:
    """Stop a queued or running run: its processes are killed, the tests not started skipped."""
    state = state_of(request)
    store = run_store(state, run_id)
    run = queries.get_run(store, run_id)
    if run.status in ("queued", "running") and not state.dispatcher.cancel(run_id):
        raise NotFoundError(f"run {run_id} is not executing on this server")
    return RunRead.model_validate(queries.get_run(store, run_id))


@router.get(
    "/runs/{run_id}/results", response_model=pages.Page[ResultRead], summary="A run's results"
)
async def run_results(
    request: Request,
    run_id: RunId,
    _: Reader,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    search: Annotated[Text | None, Query(max_length=1000)] = None,
    sort: Literal["position", "-duration"] = "position",
    attempts: bool = False,
    limit: Limit = pages.DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Response:
    """Results in report order (or slowest first), filtered by outcome and by name."""
    state = state_of(request)
    store = state.store  # a run's results are found by its id alone, whatever its project
    slowest = sort == "-duration"
    after = pages.decode(cursor, float, int) if slowest else pages.decode(cursor, int)
    found = await state.read(
        queries.results,
        store,
        run_id,
        outcomes=outcome or (),
        search=search,
        limit=limit + 1,
        with_attempts=attempts,
        after=None if after is None else (after[0], after[1]) if slowest else after[0],
        slowest_first=slowest,
    )
    if not found:
        await state.read(run_store, state, run_id)  # 404 if there is no such run
    more = len(found) > limit
    items = found[:limit]
    last = items[-1] if more else None
    cursor_next = None
    if last is not None:
        cursor_next = pages.encode([last.duration, last.position] if slowest else [last.position])
    return pages.respond(
        pages.Page[ResultRead](
            items=[result_read(r, with_attempts=attempts) for r in items], next=cursor_next
        )
    )


@router.get("/runs/{run_id}/results/{position}", response_model=ResultRead, summary="One result")
def run_result(request: Request, run_id: RunId, position: Position, _: Reader) -> ResultRead:
    """One result with every attempt: failures, diffs, log tails and artifacts."""
    state = state_of(request)
    store = run_store(state, run_id)
    found = queries.results(store, run_id, limit=1, with_attempts=True, after=position - 1)
    if not found or found[0].position != position:
        raise NotFoundError(f"run {run_id} has no result at position {position}")
    return result_read(found[0], with_attempts=True)


@router.get("/compare", response_model=ComparisonRead, summary="Compare two runs")
def compare(
    request: Request,
    base: Annotated[int, Query(ge=1, le=MAX_ID)],
    head: Annotated[int, Query(ge=1, le=MAX_ID)],
    _: Reader,
) -> ComparisonRead:
    """What changed from run `base` to run `head`: new failures, fixes, new tests, slowdowns."""
    state = state_of(request)
    store = run_store(state, head)
    queries.get_run(store, base)  # both in one project
    comparison = compare_runs(store, base, head)

    def changes(items: tuple[Change, ...]) -> list[ChangeRead]:
        return [
            ChangeRead(
                test_id=c.test_id,
                base=None if c.base is None else c.base.outcome.value,
                head=None if c.head is None else c.head.outcome.value,
            )
            for c in items
        ]

    return ComparisonRead(
        base=base,
        head=head,
        new_failures=changes(comparison.new_failures),
        fixed=changes(comparison.fixed),
        still_failing=changes(comparison.still_failing),
        new_tests=changes(comparison.new_tests),
        removed_tests=changes(comparison.removed_tests),
        slowdowns=[
            SlowdownRead(
                test_id=s.test_id,
                base=s.base.duration,
                head=s.head.duration,
                ratio=None if s.base.duration == 0 else s.ratio,
            )
            for s in comparison.slowdowns
        ],
    )
