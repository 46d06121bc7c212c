"""Dashboard routes answer errors with pages, not the API's JSON: `PageRoute`.

A missing or stale token leads to the login page (and a stale cookie is
dropped on the way); anything else leads to an error page with the status
the API would send for it, from the same table (`server.errors`). Bugs are
not caught here: the app's own handler logs them and answers 500.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from assay.errors import AssayError
from assay.server.auth import COOKIE
from assay.server.errors import ApiError, status_of
from assay.server.ui.links import links_for
from assay.server.ui.rendering import error_page


def _refusal(request: Request, error: ApiError) -> Response:
    if error.status != 401:
        return error_page(request, error.status, "Not allowed", error.message)
    # Reading needs a token here, or the cookie's token is no longer valid: log in again.
    links = links_for(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    stale = COOKIE in request.cookies and "authorization" not in request.headers
    response = RedirectResponse(
        links.to("/login", next=target, expired="1" if stale else None), status_code=303
    )
    if stale:
        response.delete_cookie(COOKIE, path=links.root or "/")
    return response


def _invalid(request: Request, error: RequestValidationError) -> Response:
    problems = error.errors()
    message = "invalid request"
    if problems:
        first = problems[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return error_page(request, 400, "Bad request", message)


class PageRoute(APIRoute):
    """A dashboard route: errors become pages (or a visit to the login page), not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped so that errors are answered with HTML."""
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return _refusal(request, error)
            except RequestValidationError as error:
                return _invalid(request, error)
            except AssayError as error:
                status, _ = status_of(error)
                if status == 500:
                    raise  # a bug: the app's handler logs it and answers 500
                title = {404: "Not found", 503: "Unavailable"}.get(status, "Bad request")
                return error_page(request, status, title, str(error))

        return page
