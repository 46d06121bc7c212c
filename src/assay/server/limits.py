"""Request body limits, enforced while the body streams in, before anyone buffers it.

A declared `Content-Length` over the limit is refused at once; a body sent
in chunks is counted as it arrives and cut off with 413 at the limit. Paths
that take files (imports, ingest batches) have limits of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """The request body passed its limit while it was being read.

    An `HTTPException` because FastAPI, which reads the body for a route, turns
    any other error raised meanwhile into a 400; this one it passes on, and the
    app's handler answers 413 in the usual shape.
    """

    def __init__(self, limit: int) -> None:
        message = f"the request body is larger than {limit} bytes"
        super().__init__(413, message, headers={"Connection": "close"})
        self.limit = limit


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit_for(path)` bytes."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "too_large",
                "message": f"the request body is larger than {limit} bytes",
                "details": None,
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
