"""HTTP errors, made in one place: domain errors map to status codes in `ERRORS`.

Every error response has the same body, `ErrorBody`:
`{"error": {"code": "not_found", "message": "no run 7", "details": null}}`.
Unexpected exceptions become a 500 with a fixed message; their traceback
goes to the server's log, never to the client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from assay.errors import (
    AssayError,
    ConfigError,
    NotFoundError,
    ReportFormatError,
    SpecError,
    UsageError,
    UserError,
)
from assay.reports.wire import WireError

log = logging.getLogger("assay.server")


class ApiError(Exception):
    """An error only HTTP knows: a missing token, a missing scope, a body too large."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def unauthorized(message: str = "a valid token is needed") -> ApiError:
    """401: no token, or one that is wrong, revoked or unknown."""
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


def forbidden(message: str) -> ApiError:
    """403: a token without the scope the request needs, or a foreign origin."""
    return ApiError(403, "forbidden", message)


ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (SpecError, 422, "invalid_spec"),
    (ReportFormatError, 422, "invalid_report"),
    (WireError, 422, "invalid_events"),
    (UsageError, 400, "bad_request"),
    (ConfigError, 503, "unavailable"),
    (UserError, 400, "bad_request"),
)
"""Domain errors to (status, code); the first matching class wins."""

_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a sentence, and per-field details for bad requests."""

    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error in the documented shape."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def status_of(error: Exception) -> tuple[int, str]:
    """The status and code a domain error maps to (500, `internal` if none)."""
    for kind, status, code in ERRORS:
        if isinstance(error, kind):
            return status, code
    return 500, "internal"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into an `ErrorBody` response."""

    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.code, error.message, headers=error.headers)

    async def domain_error(request: Request, error: Exception) -> JSONResponse:
        status, code = status_of(error)
        if status == 500:
            log.error("internal error on %s %s", request.method, request.url.path, exc_info=error)
            return error_response(500, "internal", "internal error; see the server's log")
        return error_response(status, code, str(error))

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        details: list[dict[str, Any]] = [
            {"location": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", ""))}
            for e in error.errors()
        ]
        where, message = "", "invalid request"
        if details:
            where, message = ".".join(details[0]["location"]), details[0]["message"]
        return error_response(
            422, "invalid_request", f"{where}: {message}" if where else message, details
        )

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = _CODES.get(error.status_code, "error")
        headers = None if error.headers is None else dict(error.headers)
        if error.status_code == 405:
            # The router names only the methods of the first route matching the path.
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return error_response(error.status_code, code, str(error.detail), headers=headers)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(AssayError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, domain_error)


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at the request's path, for a 405's `Allow`."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Bad request"),
        (401, "No valid token"),
        (403, "The token lacks the scope, or the origin is not allowed"),
        (404, "Not found"),
        (413, "Body too large"),
        (422, "Invalid request"),
    )
}
"""The documented error responses, for the OpenAPI spec of every route."""
