"""Tests and what history says about them: listing, one test's history, flaky, failures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from assay.history import FlakyConfig
from assay.history.flaky import FlakyTest, find_flaky
from assay.history.stored import failure_clusters, flaky_tests
from assay.server import pages
from assay.server.auth import Reader
from assay.server.errors import ERROR_RESPONSES
from assay.server.schemas import (
    ClusterRead,
    FlakyRead,
    ProjectRead,
    SampleRead,
    TestHistoryRead,
    TestRead,
    Text,
)
from assay.server.state import state_of
from assay.store import queries

router = APIRouter(prefix="/api/v1", tags=["tests"], responses=ERROR_RESPONSES)


def flaky_read(flaky: FlakyTest) -> FlakyRead:
    """The API's view of a flaky test."""
    return FlakyRead(
        test_id=flaky.test_id,
        score=flaky.score,
        reasons=list(flaky.reasons),
        samples=flaky.samples,
        last_seen=flaky.last_seen,
    )


@router.get("/projects", response_model=list[ProjectRead], summary="List projects")
def projects(request: Request, _: Reader) -> list[ProjectRead]:
    """Every project with recorded history."""
    return [
        ProjectRead(name=name, runs=runs, last_run_at=last)
        for name, runs, last in queries.list_projects(state_of(request).store)
    ]


@router.get("/tests", response_model=pages.Page[TestRead], summary="List tests")
def list_tests(
    request: Request,
    _: Reader,
    project: Text | None = None,
    search: Annotated[Text | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
    cursor: str | None = None,
) -> pages.Page[TestRead]:
    """The project's tests by id, optionally those whose id contains `search` (any case)."""
    store = state_of(request).project_store(project)
    after = pages.decode(cursor, str)
    found = queries.list_tests(
        store, search=search, after=None if after is None else after[0], limit=limit + 1
    )
    more = len(found) > limit
    items = found[:limit]
    return pages.Page[TestRead](
        items=[TestRead.model_validate(t) for t in items],
        next=pages.encode([items[-1].key]) if more else None,
    )


@router.get("/tests/{key:path}", response_model=TestHistoryRead, summary="A test's history")
def test_history(
    request: Request,
    key: Text,
    _: Reader,
    project: Text | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TestHistoryRead:
    """A test's recent results, oldest first, and whether it is flaky and why."""
    store = state_of(request).project_store(project)
    samples = queries.test_history(store, key, limit=limit)
    config = FlakyConfig()
    found = find_flaky(samples, config)
    return TestHistoryRead(
        key=key,
        samples=[
            SampleRead(
                run_id=s.run_id,
                at=s.run_started_at,
                commit=s.commit,
                outcome=s.outcome.value,
                flaky=s.flaky,
                duration=s.duration,
                message=s.message,
            )
            for s in samples
        ],
        flaky=flaky_read(found[0]) if found else None,
    )


test_history.__test__ = False  # type: ignore[attr-defined]


@router.get("/flaky", response_model=list[FlakyRead], summary="Flaky tests")
def flaky(
    request: Request,
    _: Reader,
    project: Text | None = None,
    window: Annotated[int, Query(ge=2, le=500)] = 30,
) -> list[FlakyRead]:
    """The project's flaky tests over its last `window` runs, most flaky first, with reasons."""
    store = state_of(request).project_store(project)
    return [flaky_read(f) for f in flaky_tests(store, FlakyConfig(window=window))]


@router.get("/failures", response_model=list[ClusterRead], summary="Failure clusters")
def failures(
    request: Request,
    _: Reader,
    project: Text | None = None,
    runs: Annotated[int, Query(ge=1, le=500)] = 30,
) -> list[ClusterRead]:
    """Failures of the last `runs` runs, grouped by normalised message."""
    store = state_of(request).project_store(project)
    return [
        ClusterRead(
            signature=c.signature,
            example=c.example,
            count=c.count,
            tests=list(c.tests),
            runs=c.runs,
            first_seen=c.first_seen,
            last_seen=c.last_seen,
        )
        for c in failure_clusters(store, runs=runs)
    ]
