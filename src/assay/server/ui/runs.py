"""The dashboard's pages of runs: recent runs with their trend, one run, one result.

Lists are read one page at a time with keyset cursors (`server.pages`), as
the API reads them, so a run of 100,000 results costs one page of rows to
show, wherever the page is. A run that is still going is followed live by
the page's script (`static/app.js`) over the API's event stream; when it
ends, the script fetches the page again as a fragment (`?fragment=1`) and
swaps the summary and the results in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from assay.errors import NotFoundError
from assay.server import pages
from assay.server.auth import Reader
from assay.server.routes.runs import run_store
from assay.server.schemas import MAX_ID
from assay.server.state import state_of
from assay.server.ui import charts
from assay.server.ui.links import Links, links_for
from assay.server.ui.rendering import ACTIVE, BAD, render
from assay.server.ui.routing import PageRoute
from assay.store import Store, queries
from assay.store.queries import StoredResult, StoredRun

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
Position = Annotated[int, Path(ge=0, le=MAX_ID)]
Cursor = Annotated[str | None, Query(max_length=500)]
Project = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_ID)]
Outcome = Literal["passed", "failed", "error", "timeout", "skipped"]

RUNS_PER_PAGE = 25
RESULTS_PER_PAGE = 50
TREND_RUNS = 30

CHIPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("all", ()),
    ("problems", ("failed", "error", "timeout")),
    ("passed", ("passed",)),
    ("failed", ("failed",)),
    ("error", ("error",)),
    ("timeout", ("timeout",)),
    ("skipped", ("skipped",)),
)
"""The outcome filters of a run's results, and the outcomes each one shows."""


def outcome_counts(run: StoredRun) -> dict[str, int]:
    """A run's results by outcome, as stored when it finished."""
    return {
        "passed": run.passed,
        "failed": run.failed,
        "error": run.errors,
        "timeout": run.timeouts,
        "skipped": run.skipped,
    }


@router.get("/")
def home(
    request: Request, _: Reader, project: Project = None, cursor: Cursor = None
) -> HTMLResponse:
    """Recent runs, newest first, and the pass rate and duration of the last ones."""
    state = state_of(request)
    store = state.project_store(project)
    links = links_for(request, project, state.store.project)
    after = pages.decode(cursor, float, int)
    found = queries.list_runs(
        store, limit=RUNS_PER_PAGE + 1, after=None if after is None else (after[0], after[1])
    )
    runs, more = found[:RUNS_PER_PAGE], len(found) > RUNS_PER_PAGE
    next_cursor = None
    if more:
        next_cursor = pages.encode([runs[-1].started_at.timestamp(), runs[-1].id])
    trend: list[StoredRun] = []
    if cursor is None:
        recent = queries.list_runs(store, limit=TREND_RUNS)
        trend = [r for r in reversed(recent) if r.status not in ACTIVE]
    return render(
        request,
        "home.html",
        links=links,
        project=store.project,
        # The project shown is listed even before it has a run of its own.
        projects=sorted({store.project, *(name for name, _, _ in queries.list_projects(store))}),
        runs=runs,
        chart=charts.trend_chart(trend, links.run),
        trend=trend,
        next_href=links.home(cursor=next_cursor) if next_cursor else None,
        first_href=links.home() if cursor else None,
        pass_rate=charts.pass_rate,
    )


@dataclass(frozen=True, slots=True)
class Chip:
    """One outcome filter above a run's results."""

    name: str
    href: str
    count: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class ResultsTable:
    """One page of a run's results, with what the filters and the pager need."""

    rows: list[StoredResult]
    chips: list[Chip]
    outcomes: tuple[str, ...]
    search: str | None
    sort: str
    page: int
    pages: int | None
    """How many pages there are, when the run's totals say (no search, run finished)."""
    next_href: str | None
    first_href: str | None


def results_table(
    store: Store,
    run: StoredRun,
    links: Links,
    *,
    outcomes: tuple[str, ...],
    search: str | None,
    sort: str,
    cursor: str | None,
    page: int,
) -> ResultsTable:
    """The page of `run`'s results that `cursor` names, filtered and sorted."""
    slowest = sort == "-duration"
    after = pages.decode(cursor, float, int) if slowest else pages.decode(cursor, int)
    found = queries.results(
        store,
        run.id,
        outcomes=outcomes,
        search=search,
        limit=RESULTS_PER_PAGE + 1,
        after=None if after is None else (after[0], after[1]) if slowest else after[0],
        slowest_first=slowest,
    )
    rows, more = found[:RESULTS_PER_PAGE], len(found) > RESULTS_PER_PAGE
    keep = {"search": search or None, "sort": sort if slowest else None}
    next_href = None
    if more:
        last = rows[-1]
        position = [last.duration, last.position] if slowest else [last.position]
        next_href = links.run(
            run.id, outcome=list(outcomes), cursor=pages.encode(position), page=page + 1, **keep
        )
    finished = run.status not in ACTIVE
    counts = outcome_counts(run)
    chips = [
        Chip(
            name,
            links.run(run.id, outcome=list(chosen), **keep),
            (sum(counts[o] for o in chosen) if chosen else run.total) if finished else None,
            set(chosen) == set(outcomes),
        )
        for name, chosen in CHIPS
    ]
    total = None
    if finished and not search:
        total = sum(counts[o] for o in outcomes) if outcomes else run.total
    return ResultsTable(
        rows=rows,
        chips=chips,
        outcomes=outcomes,
        search=search,
        sort=sort,
        page=page,
        pages=None if total is None else max(1, -(-total // RESULTS_PER_PAGE)),
        next_href=next_href,
        first_href=links.run(run.id, outcome=list(outcomes), **keep) if cursor else None,
    )


@router.get("/runs/{run_id:int}")
def run_page(
    request: Request,
    run_id: RunId,
    _: Reader,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    search: Annotated[str | None, Query(max_length=1000)] = None,
    sort: Literal["position", "-duration"] = "position",
    cursor: Cursor = None,
    page: PageNumber = 1,
    log: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    fragment: bool = False,
) -> HTMLResponse:
    """A run: its totals, live progress while it runs, and one page of its results."""
    state = state_of(request)
    store = run_store(state, run_id)
    run = queries.get_run(store, run_id)
    links = links_for(request, run.project, state.store.project)
    table = results_table(
        store,
        run,
        links,
        outcomes=tuple(dict.fromkeys(outcome or ())),
        search=search or None,
        sort=sort,
        cursor=cursor,
        page=page,
    )
    selected = None
    if log is not None:
        found = queries.results(store, run_id, limit=1, after=log - 1)
        name = found[0].name if found and found[0].position == log else f"test #{log}"
        selected = (log, name)
    return render(
        request,
        "run_fragment.html" if fragment else "run.html",
        links=links,
        run=run,
        counts=outcome_counts(run),
        table=table,
        selected=selected,
        pass_rate=charts.pass_rate(run),
    )


@router.get("/runs/{run_id:int}/results/{position:int}")
def result_page(request: Request, run_id: RunId, position: Position, _: Reader) -> HTMLResponse:
    """One result: every attempt, with its failures, diffs, log tails and whole logs."""
    state = state_of(request)
    store = run_store(state, run_id)
    run = queries.get_run(store, run_id)
    found = queries.results(store, run_id, limit=1, with_attempts=True, after=position - 1)
    if not found or found[0].position != position:
        raise NotFoundError(f"run {run_id} has no result at position {position}")
    following = queries.results(store, run_id, outcomes=sorted(BAD), limit=1, after=position)
    return render(
        request,
        "result.html",
        links=links_for(request, run.project, state.store.project),
        run=run,
        result=found[0],
        next_failure=following[0] if following else None,
    )
