"""Tokens (admin): create, list, revoke. A new token's secret is in the response once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from assay.server.auth import Admin
from assay.server.errors import ERROR_RESPONSES
from assay.server.schemas import MAX_ID, TokenCreate, TokenCreated, TokenRead
from assay.server.state import state_of
from assay.store import tokens
from assay.store.tokens import TokenInfo

router = APIRouter(prefix="/api/v1", tags=["tokens"], responses=ERROR_RESPONSES)


def token_read(info: TokenInfo) -> TokenRead:
    """The API's view of a token: never its secret."""
    return TokenRead(
        id=info.id,
        name=info.name,
        scopes=list(info.scopes),
        created_at=info.created_at,
        last_used_at=info.last_used_at,
        revoked=info.revoked,
    )


@router.get("/tokens", response_model=list[TokenRead], summary="List tokens")
def list_tokens(request: Request, _: Admin) -> list[TokenRead]:
    """Every token, newest first, with its scopes and when it was last used."""
    return [token_read(t) for t in tokens.list_tokens(state_of(request).store)]


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Create a token")
def create_token(request: Request, body: TokenCreate, _: Admin) -> TokenCreated:
    """Make a token; its secret is returned this once and never stored."""
    info, secret = tokens.create_token(state_of(request).store, body.name, body.scopes)
    return TokenCreated(**token_read(info).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", response_model=TokenRead, summary="Revoke a token")
def revoke_token(
    request: Request, token_id: Annotated[int, Path(ge=1, le=MAX_ID)], _: Admin
) -> TokenRead:
    """Revoke a token for good."""
    return token_read(tokens.revoke_token(state_of(request).store, token_id))
