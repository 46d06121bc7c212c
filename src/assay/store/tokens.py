"""API tokens: made once, kept only as a SHA-256 digest, each with its scopes.

A token's secret is shown when it is created and never again: the database
holds its digest, so a leaked database does not leak working tokens. The
secrets are 256 random bits, so a plain hash is enough (no salt or slow
hash is needed against guessing).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from assay.errors import NotFoundError, UsageError
from assay.store.queries import when
from assay.store.rows import TokenRow
from assay.store.store import Store

SCOPES = ("read", "run", "admin")
"""From least to most: each scope includes the ones before it."""

PREFIX = "assay_"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as the server knows it: never its secret."""

    id: int
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool

    def allows(self, scope: str) -> bool:
        """Whether this token grants `scope` (a higher scope grants the lower ones)."""
        return any(SCOPES.index(own) >= SCOPES.index(scope) for own in self.scopes)


def digest(secret: str) -> str:
    """The stored form of a token's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """`scopes` in canonical order; `UsageError` naming an unknown one."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise UsageError(
            f"unknown scope {unknown[0]!r}: choose from {', '.join(SCOPES)}"
            if unknown
            else f"a token needs at least one scope: {', '.join(SCOPES)}"
        )
    return tuple(s for s in SCOPES if s in scopes)


def create_token(store: Store, name: str, scopes: Sequence[str]) -> tuple[TokenInfo, str]:
    """Make a token; returns it and its secret, which is not kept."""
    ordered = check_scopes(scopes)
    if not name.strip() or len(name) > 100:
        raise UsageError("a token needs a name of 1 to 100 characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    with store.engine.begin() as connection:
        token_id = connection.execute(
            insert(TokenRow)
            .values(name=name, digest=digest(secret), scopes=" ".join(ordered), created_at=now)
            .returning(TokenRow.id)
        ).scalar_one()
    return TokenInfo(token_id, name, ordered, datetime.fromtimestamp(now, UTC), None, False), secret


def authenticate(store: Store, secret: str, *, touch_every: float = 60.0) -> TokenInfo | None:
    """The live token with this secret, or None; records when it was last used.

    The last-used time is written at most every `touch_every` seconds per
    token, so that a busy client does not turn every read into a write.
    """
    if not secret.startswith(PREFIX):
        return None
    with store.engine.connect() as connection:
        row = connection.execute(
            select(TokenRow).where(TokenRow.digest == digest(secret), TokenRow.revoked_at.is_(None))
        ).first()
    if row is None:
        return None
    info = _info(row)
    now = time.time()
    if row.last_used_at is None or now - row.last_used_at >= touch_every:
        with store.engine.begin() as connection:
            connection.execute(
                update(TokenRow).where(TokenRow.id == row.id).values(last_used_at=now)
            )
    return info


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token, newest first, revoked ones included."""
    with store.engine.connect() as connection:
        rows = connection.execute(select(TokenRow).order_by(TokenRow.id.desc())).all()
    return [_info(row) for row in rows]


def revoke_token(store: Store, token_id: int) -> TokenInfo:
    """Revoke a token for good (again is harmless); `NotFoundError` if there is none."""
    with store.engine.begin() as connection:
        connection.execute(
            update(TokenRow)
            .where(TokenRow.id == token_id, TokenRow.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
        row = connection.execute(select(TokenRow).where(TokenRow.id == token_id)).first()
    if row is None:
        raise NotFoundError(f"no token {token_id}")
    return _info(row)


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        scopes=tuple(row.scopes.split()),
        created_at=datetime.fromtimestamp(row.created_at, UTC),
        last_used_at=when(row.last_used_at),
        revoked=row.revoked_at is not None,
    )
