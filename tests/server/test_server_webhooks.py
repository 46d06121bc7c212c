"""Webhooks end to end: a real server announces runs to a real receiver over HTTP.

The receiver is a small HTTP server on loopback that records every request.
How it answers is chosen by the path of the webhook's URL, so each webhook
of a test can behave differently: `/ok` takes everything, `/fail/N` refuses
the first N requests, `/fail/always` refuses all, and `/hold` keeps the
request waiting until the test lets it go.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assay.server.announcements import announce
from fixtures.databases import BACKENDS, database, opened_store, result, write_run
from fixtures.server import LiveServer, free_port, live_server

SECRET = "a-shared-secret-of-some-length"
QUICK = """\
tests:
  - name: passes
    run: "true"
  - name: fails
    run: echo nope
    expect: {stdout: "yes\\n"}
"""


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


class Receiver:
    """An HTTP server on a free loopback port that records POSTs and answers by path."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        """The URL of `path` on this receiver."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def got(self, path: str | None = None) -> list[Received]:
        """The requests so far (to `path` only, if given), oldest first."""
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 60) -> list[Received]:
        """Wait until `count` requests (to `path`) have arrived; them."""

        def arrived() -> list[Received] | None:
            found = self.got(path)
            return found if len(found) >= count else None

        return list(poll(arrived, timeout))

    def close(self) -> None:
        """Let held requests go and stop serving."""
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(30)

    def _answer(self, path: str) -> int:
        with self._lock:
            seen = self._seen[path] = self._seen.get(path, 0) + 1
        if path == "/fail/always":
            return 500
        if path.startswith("/fail/"):
            return 500 if seen <= int(path.removeprefix("/fail/")) else 204
        if path == "/hold":
            self.released.wait(60)
        return 204

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append(Received(self.path, headers, body))
                status = receiver._answer(self.path)
                text = b"try later" if status >= 300 else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test's output is not the place for an access log

        return Handler


def poll(found: Callable[[], Any], timeout: float = 60) -> Any:
    """`found()` once it is truthy, checked until a generous deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"nothing came within {timeout}s")


def verify(secret: str, request: Received) -> None:
    """Check the request's signature the way docs/webhooks.md tells receivers to."""
    timestamp = request.headers["x-assay-timestamp"]
    signed = timestamp.encode() + b"." + request.body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-assay-signature"], expected)
    assert abs(time.time() - int(timestamp)) < 300


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A recording HTTP receiver, shut down after the test."""
    found = Receiver()
    try:
        yield found
    finally:
        found.close()


@contextlib.contextmanager
def serve(backend: str, directory: Path) -> Iterator[LiveServer]:
    """A server whose webhooks retry quickly: three attempts, 50 ms before the first retry."""
    with (
        database(backend, directory) as url,
        live_server(directory / "project", url, webhook_attempts=3, webhook_backoff=0.05) as live,
    ):
        live.write_suite("quick.assay.yaml", QUICK)
        yield live


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each database backend."""
    return str(request.param)


@pytest.fixture
def server(backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh server on each backend, with quick retries (this module's own `server`)."""
    with serve(backend, tmp_path) as live:
        yield live


def add_webhook(server: LiveServer, url: str, events: list[str], **fields: Any) -> dict[str, Any]:
    """Create a webhook through the API; its answer, secret included."""
    with server.client("admin") as client:
        response = client.post(
            "/api/v1/webhooks", json={"url": url, "events": events, "secret": SECRET, **fields}
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


def start_run(server: LiveServer, suite: str = "suites/quick.assay.yaml") -> int:
    """Start a run through the API; its id, once it has finished."""
    with server.client("run") as client:
        response = client.post("/api/v1/runs", json={"suite": suite})
    assert response.status_code == 202, response.text
    run_id = int(response.json()["id"])
    server.wait_for_run(run_id)
    return run_id


def deliveries(server: LiveServer, webhook_id: int, count: int) -> list[dict[str, Any]]:
    """The webhook's recorded attempts, newest first, once there are `count` of them."""

    def found() -> list[dict[str, Any]] | None:
        with server.client("admin") as client:
            items = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries").json()["items"]
        return items if len(items) >= count else None

    return list(poll(found))


def test_a_failed_run_is_announced_finished_and_failed_with_valid_signatures(
    server: LiveServer, receiver: Receiver
) -> None:
    hook = add_webhook(
        server, receiver.url("/ok"), ["run.finished", "run.failed", "test.flaky_detected"]
    )
    run_id = start_run(server)

    requests = receiver.wait_for(2)
    by_event = {r.headers["x-assay-event"]: r for r in requests}
    assert sorted(by_event) == ["run.failed", "run.finished"]
    for event, request in by_event.items():
        verify(SECRET, request)
        document = request.json()
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("assay/")
        assert document["event"] == event
        assert document["id"] == request.headers["x-assay-delivery"]
        run = document["run"]
        assert (run["id"], run["project"], run["status"], run["url"]) == (
            run_id,
            "demo",
            "failed",
            f"/runs/{run_id}",
        )
        assert run["counts"] == {
            "total": 2,
            "passed": 1,
            "failed": 1,
            "errors": 0,
            "timeouts": 0,
            "skipped": 0,
            "flaky": 0,
        }
    (failure,) = by_event["run.failed"].json()["failures"]
    assert failure["id"] == "suites/quick.assay.yaml::fails"
    assert failure["outcome"] == "failed"
    assert "failures" not in by_event["run.finished"].json()
    assert by_event["run.failed"].json()["id"] != by_event["run.finished"].json()["id"]

    recorded = deliveries(server, hook["id"], 2)
    assert sorted(d["event"] for d in recorded) == ["run.failed", "run.finished"]
    for delivery in recorded:
        assert (delivery["attempt"], delivery["status_code"], delivery["delivered"]) == (
            1,
            204,
            True,
        )
        assert delivery["error"] is None
        assert delivery["payload"] == by_event[delivery["event"]].json()
        assert delivery["event_id"] == delivery["payload"]["id"]


def test_an_interrupted_run_is_announced_failed_with_its_reason(
    server: LiveServer, receiver: Receiver
) -> None:
    server.write_suite("slow.assay.yaml", "tests:\n  - name: sleeps\n    run: sleep 60\n")
    add_webhook(server, receiver.url("/ok"), ["run.failed"])
    with server.client("run") as client:
        run_id = client.post("/api/v1/runs", json={"suite": "suites/slow.assay.yaml"}).json()["id"]
        poll(lambda: client.get(f"/api/v1/runs/{run_id}").json()["status"] == "running")
        assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202

    (request,) = receiver.wait_for(1)
    run = request.json()["run"]
    assert (run["id"], run["status"]) == (run_id, "interrupted")
    assert run["reason"] == "cancelled: cancelled by a user"


def test_a_test_that_passes_on_retry_is_announced_flaky(
    server: LiveServer, receiver: Receiver, tmp_path: Path
) -> None:
    marker = tmp_path / "tried-once"
    server.write_suite(
        "flaky.assay.yaml",
        f"""\
        tests:
          - name: steady
            run: "true"
          - name: passes the second time
            run: test -e '{marker}' || {{ touch '{marker}'; exit 1; }}
            retries: 2
        """,
    )
    add_webhook(server, receiver.url("/ok"), ["test.flaky_detected"])
    run_id = start_run(server, "suites/flaky.assay.yaml")

    (request,) = receiver.wait_for(1)
    verify(SECRET, request)
    document = request.json()
    assert document["event"] == request.headers["x-assay-event"] == "test.flaky_detected"
    assert (document["run"]["id"], document["run"]["status"]) == (run_id, "passed")
    assert document["run"]["counts"]["flaky"] == 1
    (test,) = document["tests"]
    assert test["id"] == "suites/flaky.assay.yaml::passes the second time"
    assert test["retried"] is True
    assert test["score"] == 1.0
    assert test["reasons"] == [f"passed on retry in 1 of 1 run (last: run {run_id})"]


def test_failed_deliveries_are_retried_and_every_attempt_is_recorded(
    server: LiveServer, receiver: Receiver
) -> None:
    hook = add_webhook(server, receiver.url("/fail/2"), ["run.finished"])
    start_run(server)

    recorded = deliveries(server, hook["id"], 3)
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in recorded] == [
        (3, 204, True),
        (2, 500, False),
        (1, 500, False),
    ]
    assert [d["error"] for d in recorded] == [None, "HTTP 500: try later", "HTTP 500: try later"]
    assert len({d["event_id"] for d in recorded}) == 1
    requests = receiver.got()
    assert len(requests) == 3
    # Every attempt carries the same event and body; each is signed afresh.
    assert len({(r.headers["x-assay-delivery"], r.body) for r in requests}) == 1
    for request in requests:
        verify(SECRET, request)


def test_a_receiver_that_always_fails_gets_every_attempt_and_no_more(
    server: LiveServer, receiver: Receiver
) -> None:
    hook = add_webhook(server, receiver.url("/fail/always"), ["run.failed"])
    start_run(server)

    recorded = deliveries(server, hook["id"], 3)
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in recorded] == [
        (3, 500, False),
        (2, 500, False),
        (1, 500, False),
    ]
    # The last attempt was received before it was recorded, and none follows it.
    assert len(receiver.got()) == 3


def test_a_receiver_that_cannot_be_reached_is_recorded_with_the_error(
    server: LiveServer,
) -> None:
    hook = add_webhook(server, f"http://127.0.0.1:{free_port()}/nobody", ["run.finished"])
    start_run(server)

    recorded = deliveries(server, hook["id"], 3)
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in recorded] == [
        (3, None, False),
        (2, None, False),
        (1, None, False),
    ]
    assert all(d["error"].startswith("ConnectError") for d in recorded)


def test_slack_webhooks_get_a_slack_message(server: LiveServer, receiver: Receiver) -> None:
    add_webhook(server, receiver.url("/ok"), ["run.failed"], format="slack")
    run_id = start_run(server)

    (request,) = receiver.wait_for(1)
    verify(SECRET, request)
    assert request.headers["x-assay-event"] == "run.failed"
    message = request.json()
    assert set(message) == {"text", "blocks"}
    assert message["text"].startswith(f":x: Run {run_id} of demo failed: 1 passed, 1 failed in ")
    assert [block["type"] for block in message["blocks"]] == ["section", "section", "context"]
    assert message["blocks"][0]["text"] == {"type": "mrkdwn", "text": f"*{message['text']}*"}
    failures = message["blocks"][1]["text"]["text"]
    assert failures.startswith("• `suites/quick.assay.yaml::fails` failed")
    assert "event `run.failed`" in message["blocks"][2]["elements"][0]["text"]


def test_a_slow_receiver_does_not_hold_up_the_others(
    server: LiveServer, receiver: Receiver
) -> None:
    slow = add_webhook(server, receiver.url("/hold"), ["run.finished"])
    add_webhook(server, receiver.url("/ok"), ["run.finished"])
    start_run(server)

    receiver.wait_for(1, "/hold")
    receiver.wait_for(1, "/ok")  # while the slow one still waits for its answer
    receiver.released.set()
    (delivery,) = deliveries(server, slow["id"], 1)
    assert delivery["delivered"] is True


def test_inactive_and_unsubscribed_webhooks_get_nothing(
    backend: str, tmp_path: Path, receiver: Receiver
) -> None:
    with serve(backend, tmp_path) as server:
        add_webhook(server, receiver.url("/ok"), ["run.finished"])
        add_webhook(server, receiver.url("/inactive"), ["run.finished"], active=False)
        add_webhook(server, receiver.url("/flaky-only"), ["test.flaky_detected"])
        start_run(server)
        receiver.wait_for(1, "/ok")
    # The server has stopped, and its deliveries with it: whatever was due has come.
    assert [r.path for r in receiver.got()] == ["/ok"]


def test_ping_sends_one_signed_test_event(server: LiveServer, receiver: Receiver) -> None:
    ok = add_webhook(server, receiver.url("/ok"), ["run.failed"])
    down = add_webhook(server, receiver.url("/fail/always"), ["run.failed"])
    with server.client("admin") as client:
        pinged = client.post(f"/api/v1/webhooks/{ok['id']}/ping")
        refused = client.post(f"/api/v1/webhooks/{down['id']}/ping")
    assert pinged.status_code == 200, pinged.text
    delivery = pinged.json()
    assert (delivery["event"], delivery["attempt"], delivery["status_code"]) == ("ping", 1, 204)
    assert delivery["delivered"] is True
    assert delivery["payload"]["webhook"] == {
        "id": ok["id"],
        "url": receiver.url("/ok"),
        "events": ["run.failed"],
    }
    (request,) = receiver.got("/ok")
    verify(SECRET, request)
    assert request.json() == delivery["payload"]

    assert refused.status_code == 200
    assert (refused.json()["delivered"], refused.json()["status_code"]) == (False, 500)
    assert len(receiver.got("/fail/always")) == 1  # a ping is not retried


def test_webhooks_are_created_read_changed_and_deleted(server: LiveServer) -> None:
    with server.client("admin") as client:
        created = client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.com/a", "events": ["run.failed", "run.finished"]},
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        assert created.headers["location"] == f"/api/v1/webhooks/{hook['id']}"
        assert len(hook["secret"]) >= 32
        assert hook["events"] == ["run.finished", "run.failed"]
        assert (hook["format"], hook["active"]) == ("json", True)

        listed = client.get("/api/v1/webhooks").json()
        shown = {k: v for k, v in hook.items() if k != "secret"}
        assert listed == [shown]
        assert client.get(f"/api/v1/webhooks/{hook['id']}").json() == shown

        changed = client.patch(
            f"/api/v1/webhooks/{hook['id']}",
            json={"active": False, "format": "slack", "secret": "x" * 16},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json() == {**shown, "active": False, "format": "slack"}
        empty = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
        assert empty == {"items": [], "next": None}

        assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
        assert client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
        assert client.get("/api/v1/webhooks").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "/hooks"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://exa mple.com/"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["run.started"]}, "events"),
        ({"secret": "short"}, "secret"),
        ({"format": "xml"}, "format"),
        ({"colour": "red"}, "colour"),
    ],
    ids=[
        "ftp",
        "relative",
        "no-host",
        "space",
        "no-events",
        "bad-event",
        "short-secret",
        "format",
        "extra",
    ],
)
def test_invalid_webhooks_are_422(
    sqlite_server: LiveServer, body: dict[str, Any], field: str
) -> None:
    valid = {"url": "https://hooks.example.com/", "events": ["run.failed"]}
    with sqlite_server.client("admin") as client:
        response = client.post("/api/v1/webhooks", json={**valid, **body})
        hook = client.post("/api/v1/webhooks", json=valid).json()
        patched = client.patch(f"/api/v1/webhooks/{hook['id']}", json=body)
    for answer in (response, patched):
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_request"
        assert field in error["details"][0]["location"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/webhooks/99"),
        ("PATCH", "/api/v1/webhooks/99"),
        ("DELETE", "/api/v1/webhooks/99"),
        ("GET", "/api/v1/webhooks/99/deliveries"),
        ("POST", "/api/v1/webhooks/99/ping"),
    ],
    ids=["get", "patch", "delete", "deliveries", "ping"],
)
def test_unknown_webhooks_are_404(sqlite_server: LiveServer, method: str, path: str) -> None:
    with sqlite_server.client("admin") as client:
        response = client.request(method, path, json={} if method == "PATCH" else None)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "no webhook 99",
        "details": None,
    }


@pytest.mark.parametrize(
    ("scopes", "status"),
    [((), 401), (("read",), 403), (("run",), 403)],
    ids=["anonymous", "read", "run"],
)
def test_webhooks_need_the_admin_scope(
    sqlite_server: LiveServer, scopes: tuple[str, ...], status: int
) -> None:
    with sqlite_server.client(*scopes) as client:
        assert client.get("/api/v1/webhooks").status_code == status
        created = client.post(
            "/api/v1/webhooks", json={"url": "https://hooks.example.com/", "events": ["run.failed"]}
        )
        assert created.status_code == status


def test_history_announces_a_test_once_when_it_turns_flaky(backend: str, tmp_path: Path) -> None:
    # Passing and failing on one commit is flaky; a second failure on it is old news.
    key = "t.assay.yaml::contradicts"
    with database(backend, tmp_path) as url, opened_store(url, tmp_path) as store:
        runs = [
            write_run(store, [result(key, outcome), result("t.assay.yaml::steady")], started_at=t)
            for t, outcome in ((1000.0, "passed"), (2000.0, "failed"), (3000.0, "failed"))
        ]
        announced = [announce(store, run_id, {"test.flaky_detected"}) for run_id in runs]
    assert [len(a) for a in announced] == [0, 1, 0]
    (flaky,) = announced[1]
    (test,) = flaky.document["tests"]
    assert test["id"] == key
    assert test["retried"] is False
    assert test["reasons"] == ["passed and failed on the same commit c0ffee (runs 1, 2)"]


def test_with_a_public_url_webhooks_link_to_the_run(tmp_path: Path, receiver: Receiver) -> None:
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "p", url, public_url="https://assay.example.com/") as live,
    ):
        live.write_suite("quick.assay.yaml", QUICK)
        add_webhook(live, receiver.url("/ok"), ["run.failed"], format="slack")
        add_webhook(live, receiver.url("/ok"), ["run.failed"])
        run_id = start_run(live)
        requests = receiver.wait_for(2)
    link = f"https://assay.example.com/runs/{run_id}"
    bodies = [r.json() for r in requests]
    slack = next(b for b in bodies if "blocks" in b)
    plain = next(b for b in bodies if "blocks" not in b)
    assert plain["run"]["url"] == link
    assert f"<{link}|open the run>" in slack["blocks"][-1]["elements"][0]["text"]
