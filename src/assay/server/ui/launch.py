"""Starting and cancelling runs from the dashboard: its only pages that change anything.

Both need a token with the `run` scope, checked by the same dependency as
the API's `POST /runs` (which, for the dashboard's cookie, also checks that
the form was posted from this server's own pages). A run is started exactly
as the API starts one: a `RunRequest` handed to the dispatcher, which checks
the suite at once, so a missing suite or a broken file is shown on the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from assay.dispatch import RunRequest
from assay.errors import NotFoundError, SpecError
from assay.model.units import parse_duration
from assay.server.auth import Runner
from assay.server.routes.runs import run_store
from assay.server.state import state_of
from assay.server.ui.links import links_for
from assay.server.ui.rendering import render
from assay.server.ui.routing import PageRoute
from assay.server.ui.runs import RunId
from assay.store import queries

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_JOBS = 1000
MAX_TIMEOUT = 86400.0
MAX_TAGS = 50


@dataclass
class StartForm:
    """What the form holds: as typed, so that a mistake is shown where it was made."""

    suite: str = ""
    keyword: str = ""
    tags: str = ""
    jobs: str = ""
    timeout: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def request(self, started_by: str | None) -> RunRequest | None:
        """The run to start, or None with `errors` filled in."""
        self.errors.clear()
        jobs = timeout = None
        if not self.suite.strip():
            self.errors["suite"] = "choose a suite"
        if self.jobs.strip():
            if not self.jobs.strip().isdecimal() or not 1 <= int(self.jobs) <= MAX_JOBS:
                self.errors["jobs"] = f"a whole number from 1 to {MAX_JOBS}"
            else:
                jobs = int(self.jobs)
        if self.timeout.strip():
            try:
                timeout = parse_duration(self.timeout.strip())
            except ValueError as error:
                self.errors["timeout"] = str(error)
            else:
                if timeout > MAX_TIMEOUT:
                    self.errors["timeout"] = "at most a day (86400s)"
        tags = tuple(t for t in re.split(r"[,\s]+", self.tags) if t)
        if len(tags) > MAX_TAGS:
            self.errors["tags"] = f"at most {MAX_TAGS} tags"
        if self.errors:
            return None
        return RunRequest(
            suite=self.suite.strip(),
            keyword=self.keyword.strip() or None,
            tags=tags,
            jobs=jobs,
            timeout=timeout,
            started_by=started_by,
        )


def _form_page(request: Request, form: StartForm, status: int = 200) -> HTMLResponse:
    suites = state_of(request).suites.names()
    if not form.suite and suites:
        form.suite = suites[0]
    return render(request, "start.html", status=status, form=form, suites=suites)


@router.get("/runs/new")
def start_form(request: Request, _: Runner) -> HTMLResponse:
    """The form that starts a run of a registered suite."""
    return _form_page(request, StartForm())


@router.post("/runs/new")
def start(
    request: Request,
    caller: Runner,
    suite: Annotated[str, Form(max_length=1000)] = "",
    keyword: Annotated[str, Form(max_length=1000)] = "",
    tags: Annotated[str, Form(max_length=5000)] = "",
    jobs: Annotated[str, Form(max_length=20)] = "",
    timeout: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    """Start the run, as `POST /api/v1/runs` does, and go to its page."""
    form = StartForm(suite, keyword, tags, jobs, timeout)
    wanted = form.request(caller.name)
    if wanted is None:
        return _form_page(request, form, 422)
    try:
        run_id = state_of(request).dispatcher.submit(wanted)
    except NotFoundError as error:
        form.errors["suite"] = str(error)
        return _form_page(request, form, 404)
    except SpecError as error:
        form.errors["spec"] = str(error)
        return _form_page(request, form, 422)
    return RedirectResponse(links_for(request).run(run_id), status_code=303)


@router.post("/runs/{run_id:int}/cancel")
def cancel(request: Request, run_id: RunId, _: Runner) -> Response:
    """Stop a queued or running run, then show it again."""
    state = state_of(request)
    run = queries.get_run(run_store(state, run_id), run_id)
    if run.status in ("queued", "running"):
        state.dispatcher.cancel(run_id)  # False: it ended meanwhile, which the page will show
    return RedirectResponse(links_for(request).run(run_id), status_code=303)
