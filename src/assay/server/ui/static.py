"""The dashboard's own files (stylesheet, script, icon), served from the package.

Only the files named in `FILES` can be asked for, so no request can reach
anything else in the package, and each is sent with its exact content type
and `nosniff`. A URL carrying the file's current digest (`Links.static`) may
be cached for good; any other is revalidated.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from assay.errors import NotFoundError
from assay.server.ui.links import static_version
from assay.server.ui.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FILES = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
"""Every file the dashboard serves, with its content type."""


@functools.cache
def _content(name: str) -> bytes:
    return resources.files("assay.server.ui").joinpath("static", name).read_bytes()


@router.get("/ui/static/{name}")
def static_file(
    name: Annotated[str, Path(max_length=100)],
    v: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """One of the dashboard's files."""
    media_type = FILES.get(name)
    if media_type is None:
        raise NotFoundError(f"no file {name!r} here")
    current = v == static_version(name)
    return Response(
        _content(name),
        media_type=media_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=31536000, immutable" if current else "no-cache",
        },
    )
