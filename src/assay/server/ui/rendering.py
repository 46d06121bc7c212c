"""Rendering the dashboard: one Jinja environment, the headers every page sends, HTML errors.

Templates are package data and autoescaped: whatever a test or a user wrote
(names, messages, outputs) reaches a page only through them, so it is
always text, never markup. Pages allow scripts and styles from the server
only (`CSP`); the one script is a file in `static/`, never inline.

Dashboard routes use `PageRoute`, which answers errors with a page instead
of the API's JSON body: a missing or stale token leads to the login page,
anything else to an error page with the same status the API would send.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from assay.errors import AssayError
from assay.model.units import format_duration
from assay.server.auth import COOKIE, Principal
from assay.server.errors import ApiError, status_of

log = logging.getLogger("assay.server")

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""What a dashboard page may load and run: only the server's own files, no inline script."""

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show live data, and may show private data to whoever holds the cookie.
    "Cache-Control": "no-store",
}

OUTCOMES = ("passed", "failed", "error", "timeout", "skipped")
BAD = frozenset({"failed", "error", "timeout"})
ACTIVE = frozenset({"queued", "running"})
"""Run statuses that can still change."""


@functools.cache
def environment() -> Environment:
    """The dashboard's templates (made once, on first use)."""
    env = Environment(
        loader=PackageLoader("assay.server.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        duration=lambda seconds: "–" if seconds is None else format_duration(seconds),
        when=when,
        size=size,
        commit=lambda commit: commit[:12] if commit else "",
        diff=diff_lines,
        plural=plural,
        breakable=breakable,
    )
    env.globals.update(OUTCOMES=OUTCOMES, BAD=BAD, ACTIVE=ACTIVE)
    return env


def when(moment: datetime | None, precise: bool = False) -> str:
    """A stored time as shown: UTC, to the minute (to the second when `precise`)."""
    if moment is None:
        return "–"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if precise else "%Y-%m-%d %H:%M")


def size(count: int) -> str:
    """A byte count for people: `512 B`, `4.0 KiB`, `1.2 MiB`."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 test`, `2 tests`, with thousands separated."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def breakable(test_id: str) -> Markup:
    """A test id (escaped) that may wrap after `/` and `::`, not inside a word, on a phone."""
    text = str(escape(test_id))
    return Markup(text.replace("/", "/<wbr>").replace("::", "::<wbr>"))


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff's lines, each with its kind: `file`, `hunk`, `add`, `del` or `ctx`."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("--- ", "+++ ")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        lines.append((kind, line))
    return lines


@functools.cache
def static_version(name: str) -> str:
    """A short digest of a static file, put in its URL so browsers may cache it for good."""
    data = resources.files("assay.server.ui").joinpath("static", name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Links:
    """The dashboard's URLs, under the app's root path.

    `project` is the project a page shows when it is not the server's own;
    links to project-wide pages carry it along.
    """

    root: str = ""
    project: str | None = None

    def to(self, path: str, **query: Any) -> str:
        """`path` under the root, with the query parameters that are not None."""
        pairs = [(k, v) for k, v in query.items() if v is not None and v != []]
        return f"{self.root}{path}{'?' + urlencode(pairs, doseq=True) if pairs else ''}"

    def home(self, **query: Any) -> str:
        """The recent runs."""
        return self.to("/", project=self.project, **query)

    def run(self, run_id: int, **query: Any) -> str:
        """A run's page."""
        return self.to(f"/runs/{run_id}", **query)

    def result(self, run_id: int, position: int) -> str:
        """One result's page: attempts, failures, logs."""
        return self.to(f"/runs/{run_id}/results/{position}")

    def test(self, key: str) -> str:
        """A test's history."""
        return self.to(f"/tests/{quote(key, safe='/:')}", project=self.project)

    def page(self, name: str, **query: Any) -> str:
        """A project-wide page: `tests`, `flaky`, `failures`, `compare`."""
        return self.to(f"/{name}", project=self.project, **query)

    def artifact(self, sha256: str) -> str:
        """A stored file (a whole log)."""
        return self.to(f"/api/v1/artifacts/{sha256}")

    def static(self, name: str) -> str:
        """A file of the dashboard itself, versioned by its content."""
        return self.to(f"/ui/static/{name}", v=static_version(name))


def links_for(request: Request, project: str | None = None, default: str | None = None) -> Links:
    """The links of a page that shows `project` (None, or the server's `default`, is its own)."""
    root = str(request.scope.get("root_path") or "").rstrip("/")
    return Links(root, None if project == default else project)


def viewer_of(request: Request) -> Principal:
    """Who is looking, as the auth dependency found them (nobody, if it did not run)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else Principal(None)


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    links: Links | None = None,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page from `template`, with the viewer, the links and the dashboard's headers."""
    page = (
        environment()
        .get_template(template)
        .render(
            request=request,
            viewer=viewer_of(request),
            links=links or links_for(request),
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(page, status_code=status, headers={**HEADERS, **(headers or {})})


def local_target(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this server, else `fallback`: no redirect leaves the site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A page that says what went wrong."""
    return render(request, "error.html", status=status, title=title, message=message)


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


@dataclass
class Window:
    """One page of a list that analysis made whole in memory (flaky tests, clusters, changes)."""

    items: list[Any]
    page: int
    pages: int
    total: int
    first: int = field(default=0)

    @classmethod
    def of(cls, items: list[Any], page: int, size: int) -> Window:
        """The `page`-th (1-based) slice of `size` items; past the end, the last page."""
        pages = max(1, -(-len(items) // size))
        page = min(max(page, 1), pages)
        start = (page - 1) * size
        return cls(items[start : start + size], page, pages, len(items), start)
