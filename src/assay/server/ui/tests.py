"""The dashboard's pages of tests: the list, one test's history, flaky tests, failure clusters.

History comes from `store.queries` and its analysis from `history` (the
same functions the API and the CLI use). Flaky tests and failure clusters
are computed whole, so their pages are slices of the result (`Window`):
what is rendered stays one page long however many there are.
"""

from __future__ import annotations

import statistics
from itertools import pairwise
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from assay.history import FlakyConfig
from assay.history.flaky import find_flaky
from assay.history.stored import failure_clusters, flaky_tests
from assay.model import Outcome
from assay.server import pages
from assay.server.auth import Reader
from assay.server.state import state_of
from assay.server.ui import charts
from assay.server.ui.links import links_for
from assay.server.ui.rendering import render
from assay.server.ui.routing import PageRoute
from assay.server.ui.runs import Cursor, PageNumber, Project
from assay.server.ui.windows import Window
from assay.store import queries
from assay.store.queries import StoredSample

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TESTS_PER_PAGE = 50
FLAKY_PER_PAGE = 50
CLUSTERS_PER_PAGE = 25
TESTS_PER_CLUSTER = 10
WINDOWS = (10, 30, 100)
"""The choices of how many recent runs flaky detection and clustering look at."""


@router.get("/tests")
def tests_page(
    request: Request,
    _: Reader,
    project: Project = None,
    search: Annotated[str | None, Query(max_length=1000)] = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    """The project's tests by id, optionally those whose id contains `search`."""
    state = state_of(request)
    store = state.project_store(project)
    links = links_for(request, project, state.store.project)
    after = pages.decode(cursor, str)
    found = queries.list_tests(
        store,
        search=search or None,
        after=None if after is None else after[0],
        limit=TESTS_PER_PAGE + 1,
    )
    tests, more = found[:TESTS_PER_PAGE], len(found) > TESTS_PER_PAGE
    next_href = None
    if more:
        next_href = links.page("tests", search=search or None, cursor=pages.encode([tests[-1].key]))
    return render(
        request,
        "tests.html",
        links=links,
        tests=tests,
        search=search or "",
        next_href=next_href,
        first_href=links.page("tests", search=search or None) if cursor else None,
    )


@router.get("/tests/{key:path}")
def test_page(
    request: Request,
    key: str,
    _: Reader,
    project: Project = None,
    runs: Annotated[int, Query(ge=2, le=500)] = 50,
) -> HTMLResponse:
    """A test's recent outcomes and durations, and whether it is flaky and why."""
    state = state_of(request)
    store = state.project_store(project)
    links = links_for(request, project, state.store.project)
    samples = queries.test_history(store, key, limit=runs)
    found = find_flaky(samples, FlakyConfig())
    return render(
        request,
        "test.html",
        links=links,
        key=key,
        samples=list(reversed(samples)),
        chart=charts.history_chart(samples, lambda run_id: links.run(run_id, search=key)),
        flaky=found[0] if found else None,
        steadiness=steadiness(samples),
        stats=_stats(samples),
        runs=runs,
    )


def steadiness(samples: list[StoredSample]) -> str:
    """Why a test that is not called flaky is not: what its recent outcomes show."""
    decided = [s for s in samples if s.outcome is not Outcome.SKIPPED]
    if not decided:
        return "It has not run (only skipped) in the runs looked at."
    passed = sum(1 for s in decided if s.outcome is Outcome.PASSED)
    if passed == len(decided):
        return f"It passed in each of its last {len(decided)} runs, never only on a retry."
    if passed == 0:
        return (
            f"It failed in each of its last {len(decided)} runs: a steady failure, not a flaky one."
        )
    flips = sum(
        1
        for a, b in pairwise(decided)
        if (a.outcome is Outcome.PASSED) != (b.outcome is Outcome.PASSED)
    )
    return (
        f"It changed between passing and failing {flips} times in {len(decided)} runs, "
        "too seldom to call it flaky, and never passed and failed on the same commit."
    )


def _stats(samples: list[StoredSample]) -> dict[str, object]:
    decided = [s for s in samples if s.outcome is not Outcome.SKIPPED]
    passed = sum(1 for s in decided if s.outcome is Outcome.PASSED)
    durations = [s.duration for s in decided]
    return {
        "runs": len(samples),
        "pass_rate": passed / len(decided) if decided else None,
        "median": statistics.median(durations) if durations else None,
        "slowest": max(durations) if durations else None,
        "last": samples[-1] if samples else None,
    }


@router.get("/flaky")
def flaky_page(
    request: Request,
    _: Reader,
    project: Project = None,
    window: Annotated[int, Query(ge=2, le=500)] = 30,
    page: PageNumber = 1,
) -> HTMLResponse:
    """The project's flaky tests, most flaky first, each with the reasons it is called so."""
    state = state_of(request)
    store = state.project_store(project)
    found = flaky_tests(store, FlakyConfig(window=window))
    return render(
        request,
        "flaky.html",
        links=links_for(request, project, state.store.project),
        window=window,
        windows=sorted({*WINDOWS, window}),
        shown=Window.of(found, page, FLAKY_PER_PAGE),
    )


@router.get("/failures")
def failures_page(
    request: Request,
    _: Reader,
    project: Project = None,
    runs: Annotated[int, Query(ge=1, le=500)] = 30,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Failures of the recent runs, grouped by their message with what varies taken out."""
    state = state_of(request)
    store = state.project_store(project)
    return render(
        request,
        "failures.html",
        links=links_for(request, project, state.store.project),
        runs=runs,
        windows=sorted({*WINDOWS, runs}),
        shown=Window.of(failure_clusters(store, runs=runs), page, CLUSTERS_PER_PAGE),
        per_cluster=TESTS_PER_CLUSTER,
    )
