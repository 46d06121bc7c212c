"""Tests of the notes API (app.py) against the real service, started by `assay_service`."""

from __future__ import annotations

import json
import urllib.request

import pytest

from assay.pytest_plugin.fixtures import RunningService, ServiceFactory


def call(url: str, document: object = None) -> object:
    """GET `url`, or POST `document` to it as JSON; the answer's JSON."""
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


@pytest.fixture(scope="session")
def notes(assay_service: ServiceFactory) -> RunningService:
    """The notes API, started once and shared by every test of the session."""
    return assay_service("notes")


def test_answers_its_health_check(notes: RunningService) -> None:
    assert call(f"{notes.url}/health") == {"status": "ok"}


def test_a_fresh_instance_has_only_this_tests_notes(assay_service: ServiceFactory) -> None:
    # Its own instance, on its own port, stopped at the end of this test.
    api = assay_service("notes", scope="function")

    call(f"{api.url}/notes", {"text": "buy milk"})

    assert call(f"{api.url}/notes") == [{"text": "buy milk"}]


def test_its_log_shows_the_requests(notes: RunningService) -> None:
    call(f"{notes.url}/notes")

    assert '"GET /notes HTTP/1.1" 200' in notes.tail()
