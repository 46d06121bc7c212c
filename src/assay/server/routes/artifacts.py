"""Artifacts (whole logs, screenshots): downloaded by their SHA-256.

The path is made from the digest alone, and only a 64-character lowercase
hex digest that the database knows is accepted, so no request can name a
file outside the artifact store.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from sqlalchemy import select

from assay.errors import NotFoundError
from assay.server.auth import Reader
from assay.server.errors import ERROR_RESPONSES
from assay.server.state import state_of
from assay.store.rows import ArtifactRow

router = APIRouter(prefix="/api/v1", tags=["artifacts"], responses=ERROR_RESPONSES)

DIGEST = re.compile(r"[0-9a-f]{64}")


@router.get(
    "/artifacts/{sha256}",
    response_class=FileResponse,
    summary="Download an artifact",
    responses={200: {"content": {"text/plain": {}, "application/octet-stream": {}}}},
)
def download(
    request: Request,
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    _: Reader,
) -> FileResponse:
    """The file, streamed, with its media type; ranges are supported."""
    state = state_of(request)
    if not DIGEST.fullmatch(sha256):
        raise NotFoundError(f"no artifact {sha256!r}")
    with state.store.engine.connect() as connection:
        media_type = connection.execute(
            select(ArtifactRow.media_type).where(ArtifactRow.sha256 == sha256)
        ).scalar()
    path = state.store.artifacts.path(sha256)
    if media_type is None or not path.is_file():
        raise NotFoundError(f"no artifact {sha256}")
    if media_type.startswith("text/") and "charset" not in media_type:
        media_type += "; charset=utf-8"
    return FileResponse(
        path,
        media_type=media_type,
        filename=f"{sha256[:12]}.{'log' if media_type.startswith('text/') else 'bin'}",
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"},
    )
