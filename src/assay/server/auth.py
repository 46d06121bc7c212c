"""Who is asking: tokens from the `Authorization` header or the dashboard's cookie.

Scopes grow: `read` < `run` < `admin`, and each includes the ones before.
Reading needs no token when the server says so (`ServerConfig.read_is_public`).
A token that is sent is always checked, so a wrong one gets 401 even where
reading is public.

Every check runs before a route looks anything up, so a 401 or 403 cannot
tell whether a run exists. Requests authenticated by the cookie must come
from the server's own origin (or an allowed one) when they change
something or open a live stream: a cookie is sent by the browser whoever
made the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from assay.server.errors import forbidden, unauthorized
from assay.server.state import AppState, state_of
from assay.store.tokens import TokenInfo, authenticate

COOKIE = "assay_token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a token, or nobody (allowed to read where reading is public)."""

    token: TokenInfo | None
    by_cookie: bool = False

    @property
    def name(self) -> str | None:
        """The token's name, recorded with what it starts."""
        return None if self.token is None else self.token.name

    def allows(self, scope: str) -> bool:
        """Whether this caller holds `scope`."""
        return self.token is not None and self.token.allows(scope)


def _secret(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization")
    if header is not None:
        kind, _, value = header.partition(" ")
        return (value.strip() if kind.lower() == "bearer" else ""), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else (None, False)


async def identify(request: Request) -> Principal:
    """The caller's token, checked; 401 for a token that is sent but not valid."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    secret, by_cookie = _secret(request)
    token = None
    if secret is not None:
        state = state_of(request)
        token = await run_in_threadpool(authenticate, state.store, secret)
        if token is None:
            raise unauthorized("the token is not valid")
    principal = Principal(token, by_cookie)
    request.state.principal = principal
    return principal


def origin_allowed(request: Request, state: AppState) -> bool:
    """Whether the request's `Origin` (if any) is the server's own or an allowed one."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent by a browser for a page elsewhere
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" in (own, *state.config.allowed_origins)


def require(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that lets the request through only with `scope`."""

    async def check(request: Request) -> Principal:
        principal = await identify(request)
        state = state_of(request)
        if principal.token is None:
            if scope == "read" and state.config.read_is_public:
                return principal
            raise unauthorized()
        if not principal.allows(scope):
            raise forbidden(f"this needs a token with the {scope!r} scope")
        if (
            principal.by_cookie
            and request.method not in _SAFE
            and not origin_allowed(request, state)
        ):
            raise forbidden("this origin may not change anything here")
        return principal

    check.__name__ = f"require_{scope}"
    return check


def require_stream(request: Request) -> None:
    """Live streams check the origin whoever asks: a page elsewhere must not read them."""
    if not origin_allowed(request, state_of(request)):
        raise forbidden("this origin may not open live streams here")


Reader = Annotated[Principal, Depends(require("read"))]
Runner = Annotated[Principal, Depends(require("run"))]
Admin = Annotated[Principal, Depends(require("admin"))]
CurrentToken = Annotated[Principal, Depends(identify)]
