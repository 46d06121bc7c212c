"""The web dashboard of `assay serve`: pages rendered on the server, one small script.

Pages are Jinja templates (`templates/`), autoescaped; charts are inline SVG
drawn by `charts`; the stylesheet and the script are files in `static/`,
served by the app itself (`static`), so the dashboard loads nothing from
elsewhere and needs no build step. Without its script every page still
reads and links; the script adds live progress, the streaming log of a
running test, and the refresh of a run's results when it ends.

Reading follows the API's rules (`server.auth`); a browser logs in by
pasting a token at `/login`, which keeps it in an HttpOnly cookie.

| path | page |
|---|---|
| `/` | recent runs, pass rate and duration trend |
| `/runs/{id}` | a run: live progress, counts, results (paginated, filtered), live log |
| `/runs/{id}/results/{position}` | a result: attempts, failures with diffs, logs, artifacts |
| `/runs/new` | start a run (`run` scope) |
| `/tests`, `/tests/{id}` | tests; a test's history chart and why it is (not) flaky |
| `/flaky`, `/failures`, `/compare` | flaky tests, failure clusters, two runs compared |
| `/login`, `/logout` | the token cookie |
"""

from __future__ import annotations

from fastapi import APIRouter

from assay.server.ui import compare, launch, runs, session, static, tests

router = APIRouter(include_in_schema=False)
"""Every page of the dashboard, and its static files."""

for _part in (runs, launch, tests, compare, session, static):
    router.include_router(_part.router)

__all__ = ["router"]
