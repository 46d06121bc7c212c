"""Comparing two runs on the dashboard: what broke, what was fixed, what appeared or slowed.

Runs are named by id or as `last` / `last~N` (as on the command line). By
default the page compares the project's last run with the one before. The
comparison (`history.stored.compare_runs`) is made whole; the page shows
the first few of each kind, and one kind at a time in pages of its own, so
two runs of 100,000 results that differ everywhere still make a short page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from assay.errors import NotFoundError
from assay.history.stored import compare_runs
from assay.server.auth import Reader
from assay.server.state import state_of
from assay.server.ui.links import links_for
from assay.server.ui.rendering import render
from assay.server.ui.routing import PageRoute
from assay.server.ui.runs import PageNumber, Project
from assay.server.ui.windows import Window
from assay.store import Store, queries

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Kind = Literal["new_failures", "fixed", "still_failing", "new_tests", "removed_tests", "slowdowns"]
KINDS: tuple[tuple[str, str], ...] = (
    ("new_failures", "New failures"),
    ("fixed", "Fixed"),
    ("still_failing", "Still failing"),
    ("new_tests", "New tests"),
    ("removed_tests", "Removed tests"),
    ("slowdowns", "Slower"),
)
PREVIEW = 20
PER_PAGE = 100
RunRef = Annotated[str | None, Query(max_length=50)]


@dataclass(frozen=True, slots=True)
class Section:
    """One kind of change: its entries on this page, and how many there are."""

    kind: str
    title: str
    shown: Window
    more_href: str | None


def _pick(store: Store, base: str | None, head: str | None) -> tuple[int, int]:
    """The runs to compare: as named, or the last run and the one before it."""
    head_id = queries.resolve_run(store, head or "last")
    if base:
        return queries.resolve_run(store, base), head_id
    earlier = queries.list_runs(store, limit=1, before=head_id)
    if not earlier:
        raise NotFoundError(f"run {head_id} has no run before it to compare with")
    return earlier[0].id, head_id


@router.get("/compare")
def compare_page(
    request: Request,
    _: Reader,
    project: Project = None,
    base: RunRef = None,
    head: RunRef = None,
    kind: Kind | None = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Two runs side by side: the tests whose outcome or duration changed."""
    state = state_of(request)
    store = state.project_store(project)
    links = links_for(request, project, state.store.project)
    try:
        base_id, head_id = _pick(store, base, head)
        runs = (queries.get_run(store, base_id), queries.get_run(store, head_id))
    except NotFoundError as error:
        return render(
            request,
            "compare.html",
            status=404 if base or head else 200,  # a project without two runs yet is no error
            links=links,
            error=str(error),
            base=base or "",
            head=head or "",
        )
    comparison = compare_runs(store, base_id, head_id)
    sections = []
    for name, title in KINDS:
        if kind is not None and name != kind:
            continue
        entries: list[Any] = list(getattr(comparison, name))
        shown = Window.of(entries, page if kind else 1, PER_PAGE if kind else PREVIEW)
        more = None
        if kind is None and shown.total > PREVIEW:
            more = links.page("compare", base=str(base_id), head=str(head_id), kind=name)
        sections.append(Section(name, title, shown, more))
    return render(
        request,
        "compare.html",
        links=links,
        error=None,
        runs=runs,
        kind=kind,
        sections=sections,
        empty=comparison.empty,
        base=str(base_id),
        head=str(head_id),
    )
