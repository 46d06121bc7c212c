"""Imports (`run` scope): upload a JUnit XML file or a pytest report log, stored as a run.

The body is the file itself (`curl --data-binary @junit.xml`). It is
streamed to a temporary file as it arrives, never held in memory, and the
server's body limit for uploads (`ServerConfig.max_upload`) cuts it off with
413. The import then reads the file as `assay import` does: in bounded
memory, storing nothing if the file is malformed (422 naming the line).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from assay.api import Imported, import_results
from assay.errors import ReportFormatError
from assay.server.auth import Runner
from assay.server.errors import ERROR_RESPONSES
from assay.server.state import AppState, state_of

router = APIRouter(prefix="/api/v1", tags=["imports"], responses=ERROR_RESPONSES)

Name = Annotated[str | None, Query(min_length=1, max_length=200)]


class ImportCreated(BaseModel):
    """The run an upload became, and what was read from it."""

    id: int
    url: str
    cases: int
    by_outcome: dict[str, int]
    unknown_elements: dict[str, int]
    partial: str | None = None


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportCreated,
    openapi_extra={
        "requestBody": {
            "required": True,
            # The file as it is, whatever its format: the `format` parameter says how to read it.
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    summary="Import a results file as a run",
)
async def import_file(
    request: Request,
    response: Response,
    _: Runner,
    format: Literal["junit", "reportlog"] = "junit",
    project: Name = None,
    name: Name = None,
    partial: bool = False,
) -> ImportCreated:
    """Store the uploaded file's results as one run of `project` (default: the server's).

    `name` is what the run's source and any error call the file (default:
    `upload`). With `partial`, a file broken part-way keeps what came before
    the problem, and the run is `interrupted` with the reason.
    """
    state = state_of(request)
    shown = name or "upload"
    with tempfile.TemporaryDirectory(prefix="assay-upload-") as directory:
        path = Path(directory) / "upload"
        # Writes of a chunk go to the page cache: cheap enough to make on the event loop.
        with path.open("wb") as upload:
            async for chunk in request.stream():
                upload.write(chunk)
        imported = await run_in_threadpool(_import, state, path, format, project, shown, partial)
    url = f"/api/v1/runs/{imported.run_id}"
    response.headers["Location"] = url
    return ImportCreated(
        id=imported.run_id,
        url=url,
        cases=imported.cases,
        by_outcome=imported.by_outcome,
        unknown_elements=imported.unknown_elements,
        partial=imported.partial and imported.partial.replace(str(path), shown),
    )


def _import(
    state: AppState, path: Path, format: str, project: str | None, shown: str, partial: bool
) -> Imported:
    settings = state.config.settings.merge(project=project)
    try:
        imported = import_results(
            [path], format=format, partial=partial, settings=settings, source=shown
        )
    except ReportFormatError as error:
        # The temporary file's path means nothing to the client; the name it gave does.
        raise ReportFormatError(shown, error.line, error.message) from None
    state.run_finished(imported.run_id)
    return imported
