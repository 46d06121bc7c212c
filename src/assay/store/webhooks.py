"""Webhooks and their deliveries: where the server announces run events, and how that went.

A webhook's secret is kept as it is, unlike a token's: the server needs it
to sign each payload (HMAC-SHA256), so a digest would not do. The API shows
it once, in the answer to the request that created the webhook, so that it
does not leak through listings; whoever sets a new one already knows it.

Every attempt to deliver an event is a row of its own, failures and retries
included: `list_deliveries` is how an admin finds out why a receiver never
heard of a run.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from assay.errors import NotFoundError, UsageError
from assay.store.rows import DeliveryRow, WebhookRow
from assay.store.store import Store

EVENTS = ("run.finished", "run.failed", "test.flaky_detected")
"""The events a webhook can subscribe to, in canonical order."""

FORMATS = ("json", "slack")
"""Payload shapes: Assay's own JSON, or a Slack message (`text` and `blocks`)."""

MAX_URL = 2000
URL_PATTERN = (
    r"^https?://([A-Za-z0-9._~%!$&'()*+,;=:-]+@)?[A-Za-z0-9._~%!$&'()*+,;=-]+(:[0-9]{1,5})?"
    r"([/?#][!-~]*)?$"
)
"""The shape of a webhook URL, which the API's schema states too; `check_url` checks the rest.

Only visible ASCII: other characters must be percent-encoded. The classes are
spelt out because regex engines (Python's, the schema's readers') disagree on `\\s`.
"""
URL_RULE = (
    "a webhook URL must be an absolute http:// or https:// URL with a host, in visible ASCII"
    " characters (percent-encode others)"
)
MIN_SECRET, MAX_SECRET = 16, 200


@dataclass(frozen=True, slots=True)
class Webhook:
    """A receiver of events: where to send which events, in which shape, signed with what."""

    id: int
    url: str
    events: tuple[str, ...]
    secret: str
    format: str
    active: bool
    created_at: datetime

    def wants(self, event: str) -> bool:
        """Whether this webhook is active and subscribed to `event`."""
        return self.active and event in self.events


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver one event to one webhook, and what came of it."""

    id: int
    webhook_id: int
    event: str
    event_id: str
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration: float
    delivered: bool
    payload: str


def check_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL with a host; `UsageError` otherwise."""
    if len(url) > MAX_URL or not re.fullmatch(URL_PATTERN, url):
        raise UsageError(URL_RULE)
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise UsageError(f"the webhook URL is not valid: {error}") from None
    return url


def check_events(events: Sequence[str]) -> tuple[str, ...]:
    """`events` in canonical order; `UsageError` naming an unknown one, or for none."""
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise UsageError(
            f"unknown event {unknown[0]!r}: choose from {', '.join(EVENTS)}"
            if unknown
            else f"a webhook needs at least one event: {', '.join(EVENTS)}"
        )
    return tuple(e for e in EVENTS if e in events)


def check_secret(secret: str) -> str:
    """`secret` if it is long enough to sign with and easy to copy; `UsageError` otherwise."""
    if not MIN_SECRET <= len(secret) <= MAX_SECRET or not all("!" <= c <= "~" for c in secret):
        raise UsageError(
            f"a webhook secret must have {MIN_SECRET} to {MAX_SECRET} visible ASCII characters"
        )
    return secret


def check_format(format: str) -> str:
    """`format` if it is a known payload shape; `UsageError` otherwise."""
    if format not in FORMATS:
        raise UsageError(f"unknown webhook format {format!r}: choose from {', '.join(FORMATS)}")
    return format


def new_secret() -> str:
    """A random secret for a webhook that was given none (256 bits)."""
    return secrets.token_urlsafe(32)


def create_webhook(
    store: Store,
    url: str,
    events: Sequence[str],
    *,
    secret: str | None = None,
    format: str = "json",
    active: bool = True,
) -> Webhook:
    """Add a webhook; without a `secret`, one is made (read it from the result)."""
    values = {
        "url": check_url(url),
        "events": " ".join(check_events(events)),
        "secret": new_secret() if secret is None else check_secret(secret),
        "format": check_format(format),
        "active": active,
        "created_at": time.time(),
    }
    with store.engine.begin() as connection:
        webhook_id = connection.execute(
            insert(WebhookRow).values(**values).returning(WebhookRow.id)
        ).scalar_one()
    return _webhook({"id": webhook_id, **values})


def list_webhooks(store: Store) -> list[Webhook]:
    """Every webhook, oldest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(select(WebhookRow.__table__).order_by(WebhookRow.id)).all()
    return [_webhook(row._mapping) for row in rows]


def get_webhook(store: Store, webhook_id: int) -> Webhook:
    """One webhook; `NotFoundError` if there is none with that id."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(WebhookRow.__table__).where(WebhookRow.id == webhook_id)
        ).first()
    if row is None:
        raise NotFoundError(f"no webhook {webhook_id}")
    return _webhook(row._mapping)


def update_webhook(
    store: Store,
    webhook_id: int,
    *,
    url: str | None = None,
    events: Sequence[str] | None = None,
    secret: str | None = None,
    format: str | None = None,
    active: bool | None = None,
) -> Webhook:
    """Change what is given (None leaves a field as it is); `NotFoundError` for an unknown id."""
    values: dict[str, Any] = {}
    if url is not None:
        values["url"] = check_url(url)
    if events is not None:
        values["events"] = " ".join(check_events(events))
    if secret is not None:
        values["secret"] = check_secret(secret)
    if format is not None:
        values["format"] = check_format(format)
    if active is not None:
        values["active"] = active
    if values:
        with store.engine.begin() as connection:
            connection.execute(
                update(WebhookRow).where(WebhookRow.id == webhook_id).values(**values)
            )
    return get_webhook(store, webhook_id)


def delete_webhook(store: Store, webhook_id: int) -> None:
    """Remove a webhook and its deliveries; `NotFoundError` if there is none with that id."""
    with store.engine.begin() as connection:
        # Deliveries first: their foreign key cascades, but only where the backend enforces it.
        connection.execute(delete(DeliveryRow).where(DeliveryRow.webhook_id == webhook_id))
        gone = connection.execute(delete(WebhookRow).where(WebhookRow.id == webhook_id)).rowcount
    if not gone:
        raise NotFoundError(f"no webhook {webhook_id}")


def record_delivery(
    store: Store,
    webhook_id: int,
    *,
    event: str,
    event_id: str,
    attempt: int,
    at: float,
    status_code: int | None,
    error: str | None,
    duration: float,
    delivered: bool,
    payload: str,
) -> Delivery | None:
    """Keep one delivery attempt; None if the webhook was deleted while it was sent."""
    values = {
        "webhook_id": webhook_id,
        "event": event,
        "event_id": event_id,
        "attempt": attempt,
        "at": at,
        "status_code": status_code,
        "error": error,
        "duration": duration,
        "delivered": delivered,
        "payload": payload,
    }
    try:
        with store.engine.begin() as connection:
            delivery_id = connection.execute(
                insert(DeliveryRow).values(**values).returning(DeliveryRow.id)
            ).scalar_one()
    except IntegrityError:  # the foreign key: an admin deleted the webhook meanwhile
        return None
    return _delivery({"id": delivery_id, **values})


def list_deliveries(
    store: Store, webhook_id: int, *, limit: int = 50, before: int | None = None
) -> list[Delivery]:
    """A webhook's delivery attempts, newest first; `before` is a delivery id to page from.

    `NotFoundError` if there is no such webhook.
    """
    query = (
        select(DeliveryRow.__table__)
        .where(DeliveryRow.webhook_id == webhook_id)
        .order_by(DeliveryRow.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(DeliveryRow.id < before)
    with store.engine.connect() as connection:
        known = connection.execute(select(WebhookRow.id).where(WebhookRow.id == webhook_id))
        if known.first() is None:
            raise NotFoundError(f"no webhook {webhook_id}")
        rows = connection.execute(query).all()
    return [_delivery(row._mapping) for row in rows]


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        events=tuple(row["events"].split()),
        secret=row["secret"],
        format=row["format"],
        active=bool(row["active"]),
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        event=row["event"],
        event_id=row["event_id"],
        attempt=row["attempt"],
        at=datetime.fromtimestamp(row["at"], UTC),
        status_code=row["status_code"],
        error=row["error"],
        duration=row["duration"],
        delivered=bool(row["delivered"]),
        payload=row["payload"],
    )
