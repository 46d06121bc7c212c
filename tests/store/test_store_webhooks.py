"""Webhooks and their delivery attempts in the store, on every backend."""

from __future__ import annotations

import pytest

from assay.errors import NotFoundError, UsageError
from assay.store import Store
from assay.store.webhooks import (
    EVENTS,
    create_webhook,
    delete_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
    record_delivery,
    update_webhook,
)

URL = "https://hooks.example.com/assay"


def deliver(store: Store, webhook_id: int, attempt: int, *, delivered: bool = False) -> int | None:
    """Record one attempt of event `e1`; its id (None if the webhook is gone)."""
    found = record_delivery(
        store,
        webhook_id,
        event="run.finished",
        event_id="e1",
        attempt=attempt,
        at=1_700_000_000.0 + attempt,
        status_code=200 if delivered else 500,
        error=None if delivered else "HTTP 500",
        duration=0.01,
        delivered=delivered,
        payload='{"event":"run.finished"}',
    )
    return None if found is None else found.id


def test_a_webhook_is_created_with_a_secret_and_read_back(store: Store) -> None:
    made = create_webhook(store, URL, ["test.flaky_detected", "run.finished"])
    assert made.events == ("run.finished", "test.flaky_detected")  # canonical order
    assert len(made.secret) >= 32 and made.format == "json" and made.active
    assert get_webhook(store, made.id) == made
    assert list_webhooks(store) == [made]

    chosen = create_webhook(store, URL, EVENTS, secret="s" * 16, format="slack", active=False)
    assert (chosen.secret, chosen.format, chosen.active) == ("s" * 16, "slack", False)
    assert [w.id for w in list_webhooks(store)] == [made.id, chosen.id]


def test_an_update_changes_only_what_is_given(store: Store) -> None:
    made = create_webhook(store, URL, ["run.failed"])
    changed = update_webhook(store, made.id, events=["run.finished", "run.failed"], active=False)
    assert changed.events == ("run.finished", "run.failed")
    assert (changed.url, changed.secret, changed.active) == (URL, made.secret, False)
    assert update_webhook(store, made.id) == changed
    assert update_webhook(store, made.id, secret="n" * 20).secret == "n" * 20


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": "ftp://example.com/"}, "http:// or https://"),
        ({"url": "/relative"}, "http:// or https://"),
        ({"url": "http://exa mple.com/"}, "visible ASCII"),
        ({"url": "http://example.com:99999/"}, "not valid"),
        ({"events": ["run.started"]}, "unknown event 'run.started'"),
        ({"events": []}, "at least one event"),
        ({"secret": "short"}, "16 to 200"),
        ({"secret": "with a space in it!"}, "visible ASCII"),
        ({"format": "xml"}, "unknown webhook format"),
    ],
    ids=["scheme", "relative", "space", "port", "event", "no-events", "short", "spaces", "format"],
)
def test_invalid_fields_are_usage_errors(
    store: Store, change: dict[str, object], message: str
) -> None:
    made = create_webhook(store, URL, ["run.failed"])
    with pytest.raises(UsageError, match=message):
        update_webhook(store, made.id, **change)  # type: ignore[arg-type]
    assert get_webhook(store, made.id) == made


def test_unknown_webhooks_are_not_found(store: Store) -> None:
    for call in (
        lambda: get_webhook(store, 99),
        lambda: update_webhook(store, 99, active=False),
        lambda: delete_webhook(store, 99),
        lambda: list_deliveries(store, 99),
    ):
        with pytest.raises(NotFoundError, match="no webhook 99"):
            call()


def test_deliveries_list_newest_first_and_page_by_id(store: Store) -> None:
    made = create_webhook(store, URL, ["run.finished"])
    other = create_webhook(store, URL, ["run.finished"])
    ids = [deliver(store, made.id, n, delivered=n == 3) for n in (1, 2, 3)]
    deliver(store, other.id, 1)

    found = list_deliveries(store, made.id)
    assert [d.id for d in found] == ids[::-1]
    assert [(d.attempt, d.delivered, d.status_code) for d in found] == [
        (3, True, 200),
        (2, False, 500),
        (1, False, 500),
    ]
    assert found[1].error == "HTTP 500" and found[0].error is None
    assert [d.id for d in list_deliveries(store, made.id, limit=1, before=ids[2])] == [ids[1]]


def test_deleting_a_webhook_removes_its_deliveries_and_stops_recording(store: Store) -> None:
    made = create_webhook(store, URL, ["run.finished"])
    deliver(store, made.id, 1)
    delete_webhook(store, made.id)
    assert list_webhooks(store) == []
    assert deliver(store, made.id, 2) is None
    with pytest.raises(NotFoundError):
        list_deliveries(store, made.id)
