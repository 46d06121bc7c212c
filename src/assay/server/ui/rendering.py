"""Rendering the dashboard: one Jinja environment, its filters, the headers every page sends.

Templates are package data and autoescaped: whatever a test or a user wrote
(names, messages, outputs) reaches a page only through them, so it is
always text, never markup. Pages allow scripts and styles from the server
only (`CSP`); the one script is a file in `static/`, never inline.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from assay.model.units import format_duration
from assay.server.auth import Principal
from assay.server.ui.links import Links, links_for

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
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A page that says what went wrong."""
    return render(request, "error.html", status=status, title=title, message=message)
