"""Logging in to the dashboard: a token pasted once, then kept in a cookie.

The cookie (`auth.COOKIE`) holds the token's secret; it is HttpOnly, so no
script can read it, and SameSite=Strict, so no other site's page can make
the browser send it. `auth` accepts it like a bearer token and checks the
`Origin` of requests it authenticates that change something. Logging in
and out check the origin too: another site must not log a browser in as
someone else.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from assay.server.auth import COOKIE, identify, origin_allowed
from assay.server.errors import ApiError
from assay.server.state import state_of
from assay.server.ui.links import links_for, local_target
from assay.server.ui.rendering import error_page, render
from assay.server.ui.routing import PageRoute
from assay.store.tokens import authenticate

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Target = Annotated[str | None, Query(max_length=2000)]


@router.get("/login")
async def login_form(request: Request, next: Target = None, expired: bool = False) -> HTMLResponse:
    """The form to paste a token into."""
    with contextlib.suppress(ApiError):  # a stale cookie is why some come here
        await identify(request)
    message = "Your token is not valid any more: log in again." if expired else None
    target = local_target(next, links_for(request).home())
    return render(request, "login.html", target=target, error=message)


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the token; keep it in the cookie and go on to `next`."""
    state = state_of(request)
    if not origin_allowed(request, state):
        return error_page(request, 403, "Not allowed", "this origin may not log in here")
    links = links_for(request)
    target = local_target(next, links.home())
    info = authenticate(state.store, token.strip())
    if info is None:
        return render(
            request,
            "login.html",
            status=401,
            target=target,
            error="That token is not valid: it is unknown, mistyped or revoked.",
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=links.root or "/",
    )
    return response


@router.get("/logout")
def logout_form(request: Request) -> HTMLResponse:
    """A button that logs out (a link must not: any page could link to it)."""
    return render(request, "logout.html")


@router.post("/logout")
def logout(request: Request) -> Response:
    """Forget the cookie."""
    if not origin_allowed(request, state_of(request)):
        return error_page(request, 403, "Not allowed", "this origin may not log out here")
    links = links_for(request)
    response = RedirectResponse(links.home(), status_code=303)
    response.delete_cookie(COOKIE, path=links.root or "/", httponly=True, samesite="strict")
    return response
