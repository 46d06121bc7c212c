"""Cursor pagination: an opaque `cursor` names where the next page starts.

Cursors are keyset positions (the sort key of the last item on a page),
not offsets, so a page costs the same at the millionth row as at the
first and rows added meanwhile do not shift pages. They are base64url
JSON, opaque to clients, and a malformed one is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from starlette.responses import Response

from assay.errors import UsageError
from assay.server.schemas import MAX_ID

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    """One page of a listing; `next` is the cursor of the following page, if there is one."""

    items: list[T]
    next: str | None = None


def respond(page: Page[Any]) -> Response:
    """`page` as a JSON response, serialised once.

    Returning the model would have FastAPI validate it again against the
    route's `response_model` before serialising it: for the busiest listings
    that doubles the work per row for no gain, since the page was just built
    from that very model.
    """
    return Response(page.model_dump_json(), media_type="application/json")


def encode(position: list[Any]) -> str:
    """The cursor for a keyset position."""
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, *shape: type) -> list[Any] | None:
    """The keyset position in `cursor`, checked against `shape`; `UsageError` if malformed."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise UsageError("the cursor is not valid: pass one from a previous page") from None
    if (
        not isinstance(position, list)
        or len(position) != len(shape)
        or not all(_fits(v, kind) for v, kind in zip(position, shape, strict=True))
    ):
        raise UsageError("the cursor is not valid: pass one from a previous page")
    return position


def _fits(value: Any, kind: type) -> bool:
    """Whether a cursor's value is a `kind` that the database can compare with."""
    if kind is int:
        return type(value) is int and -MAX_ID <= value <= MAX_ID
    if kind is float:
        # JSON integers stand for whole floats; NaN and infinities (which json reads) do not sort.
        return type(value) in (int, float) and math.isfinite(value)
    if kind is str:
        return isinstance(value, str) and "\x00" not in value  # PostgreSQL text holds no NUL
    return isinstance(value, kind)
