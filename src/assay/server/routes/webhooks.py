"""Webhooks (admin): add, list, change, remove, test them, and see every delivery attempt."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from assay.errors import InternalError, NotFoundError
from assay.server import pages
from assay.server.auth import Admin
from assay.server.errors import ERROR_RESPONSES
from assay.server.notify import Notifier
from assay.server.schemas import (
    MAX_ID,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from assay.server.state import state_of
from assay.store import webhooks
from assay.store.webhooks import Delivery, Webhook

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=ERROR_RESPONSES)

WebhookId = Annotated[int, Path(ge=1, le=MAX_ID)]


def webhook_read(webhook: Webhook) -> WebhookRead:
    """The API's view of a webhook: never its secret."""
    return WebhookRead(
        id=webhook.id,
        url=webhook.url,
        events=list(webhook.events),
        format=webhook.format,
        active=webhook.active,
        created_at=webhook.created_at,
    )


def delivery_read(delivery: Delivery) -> DeliveryRead:
    """The API's view of one delivery attempt, with the body that was sent as JSON."""
    return DeliveryRead(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event=delivery.event,
        event_id=delivery.event_id,
        attempt=delivery.attempt,
        at=delivery.at,
        status_code=delivery.status_code,
        error=delivery.error,
        duration=delivery.duration,
        delivered=delivery.delivered,
        payload=json.loads(delivery.payload),
    )


@router.get("/webhooks", response_model=list[WebhookRead], summary="List webhooks")
def list_webhooks(request: Request, _: Admin) -> list[WebhookRead]:
    """Every webhook, oldest first."""
    return [webhook_read(w) for w in webhooks.list_webhooks(state_of(request).store)]


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Add a webhook")
def create_webhook(
    request: Request, response: Response, body: WebhookCreate, _: Admin
) -> WebhookCreated:
    """Add a webhook; its secret is returned this once (made by the server if none is given)."""
    webhook = webhooks.create_webhook(
        state_of(request).store,
        body.url,
        body.events,
        secret=body.secret,
        format=body.format,
        active=body.active,
    )
    response.headers["Location"] = f"/api/v1/webhooks/{webhook.id}"
    return WebhookCreated(**webhook_read(webhook).model_dump(), secret=webhook.secret)


@router.get("/webhooks/{webhook_id}", response_model=WebhookRead, summary="Get a webhook")
def get_webhook(request: Request, webhook_id: WebhookId, _: Admin) -> WebhookRead:
    """One webhook, without its secret."""
    return webhook_read(webhooks.get_webhook(state_of(request).store, webhook_id))


@router.patch("/webhooks/{webhook_id}", response_model=WebhookRead, summary="Change a webhook")
def update_webhook(
    request: Request, webhook_id: WebhookId, body: WebhookUpdate, _: Admin
) -> WebhookRead:
    """Change the fields given; a new `secret` is used from the next delivery attempt on."""
    webhook = webhooks.update_webhook(
        state_of(request).store,
        webhook_id,
        url=body.url,
        events=body.events,
        secret=body.secret,
        format=body.format,
        active=body.active,
    )
    return webhook_read(webhook)


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, response_class=Response, summary="Remove a webhook"
)
def delete_webhook(request: Request, webhook_id: WebhookId, _: Admin) -> Response:
    """Remove a webhook and its deliveries; retries still pending for it stop."""
    webhooks.delete_webhook(state_of(request).store, webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=pages.Page[DeliveryRead],
    summary="A webhook's delivery attempts",
)
def list_deliveries(
    request: Request,
    webhook_id: WebhookId,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
    cursor: str | None = None,
) -> pages.Page[DeliveryRead]:
    """Every attempt to deliver an event to this webhook, newest first, retries included."""
    after = pages.decode(cursor, int)
    found = webhooks.list_deliveries(
        state_of(request).store,
        webhook_id,
        limit=limit + 1,
        before=None if after is None else after[0],
    )
    more = len(found) > limit
    items = found[:limit]
    return pages.Page[DeliveryRead](
        items=[delivery_read(d) for d in items],
        next=pages.encode([items[-1].id]) if more else None,
    )


@router.post(
    "/webhooks/{webhook_id}/ping", response_model=DeliveryRead, summary="Send a test event"
)
async def ping_webhook(request: Request, webhook_id: WebhookId, _: Admin) -> DeliveryRead:
    """Send a `ping` event now, once, without retries; the attempt, as recorded.

    The answer comes when the receiver has answered (or the webhook timeout
    passed): a failed delivery is still a 200, with `delivered: false`.
    """
    state = state_of(request)
    webhook = await run_in_threadpool(webhooks.get_webhook, state.store, webhook_id)
    if state.notifier is None:
        raise InternalError("the server has no notifier")
    notifier: Notifier = state.notifier
    delivery = await notifier.ping(webhook)
    if delivery is None:  # deleted while it was being pinged
        raise NotFoundError(f"no webhook {webhook_id}")
    return delivery_read(delivery)
