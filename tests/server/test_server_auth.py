"""Who may do what: the auth matrix of every mutating route, public reads, origins, no leaks.

The matrix is made from the app's own routes, so a route added later is
covered as soon as it is mounted, and one that forgets its scope fails here.
A route's scope is read from its dependencies: `auth.require(scope)` makes
checks named `require_<scope>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from assay.config import Settings
from assay.server import ServerConfig, create_app
from assay.server.auth import COOKIE
from assay.store.tokens import SCOPES
from fixtures.databases import database, result, write_run
from fixtures.server import LiveServer, live_server

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EVIL = "http://evil.example"
MISSING = 999_999  # an id no test here creates


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method of one API route, and the scope its dependencies require (None: none)."""

    method: str
    path: str
    scope: str | None

    def url(self, value: object = MISSING) -> str:
        """The path with every parameter (`{name}` or `{name:converter}`) set to `value`."""
        return re.sub(r"\{[^}]+\}", str(value), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _checks(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        yield getattr(dependency.call, "__name__", "")
        yield from _checks(dependency)


def required_scope(dependant: Dependant) -> str | None:
    """The highest scope among a route's `require_<scope>` dependencies."""
    scopes = [name.removeprefix("require_") for name in _checks(dependant)]
    known = [s for s in scopes if s in SCOPES]
    return max(known, key=SCOPES.index) if known else None


def api_endpoints(app: FastAPI, methods: frozenset[str] = MUTATING) -> list[Endpoint]:
    """Every `/api/v1` route of `app` answering one of `methods`, one entry per method."""
    found = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.path:
            continue
        if route.path.startswith("/api/v1/"):
            scope = required_scope(route.dependant)
            found += [
                Endpoint(m, route.path, scope) for m in sorted((route.methods or set()) & methods)
            ]
    return found


# Routes are read from an app that is made but never started: making one opens nothing.
APP = create_app(ServerConfig(Settings(root=Path("/nonexistent"))))
MUTATING_ENDPOINTS = api_endpoints(APP)


def test_the_matrix_sees_the_routes_it_should() -> None:
    named = {str(e) for e in MUTATING_ENDPOINTS}
    assert {
        "POST /api/v1/runs",
        "POST /api/v1/runs/{run_id}/cancel",
        "POST /api/v1/tokens",
        "DELETE /api/v1/tokens/{token_id}",
    } <= named


@pytest.mark.parametrize("endpoint", MUTATING_ENDPOINTS, ids=str)
def test_every_mutating_route_requires_a_scope(endpoint: Endpoint) -> None:
    assert endpoint.scope in ("run", "admin"), (
        f"{endpoint} changes something but its dependencies ask for "
        f"{endpoint.scope or 'no scope at all'}: use auth.Runner or auth.Admin"
    )


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the matrix: every request in it is refused or names nothing that exists."""
    root = tmp_path_factory.mktemp("auth")
    with database("sqlite", root) as url, live_server(root / "project", url) as live:
        yield live


def _request(
    server: LiveServer, endpoint: Endpoint, principal: str, url: str | None = None
) -> httpx.Response:
    scopes = () if principal in ("none", "wrong") else (principal,)
    token = "assay_" + "x" * 43 if principal == "wrong" else None
    body: dict[str, Any] = {"json": {}} if endpoint.method in ("POST", "PUT", "PATCH") else {}
    with server.client(*scopes, token=token) as client:
        return client.request(endpoint.method, url or endpoint.url(), **body)


def _expected(scope: str | None, principal: str) -> int | None:
    """401 or 403 when `principal` must be refused, None when it must get past auth."""
    if principal in ("none", "wrong"):
        return 401
    if scope is None or SCOPES.index(principal) < SCOPES.index(scope):
        return 403
    return None


@pytest.mark.parametrize("principal", ["none", "wrong", "read", "run", "admin"])
@pytest.mark.parametrize("endpoint", MUTATING_ENDPOINTS, ids=str)
def test_auth_matrix(shared: LiveServer, endpoint: Endpoint, principal: str) -> None:
    response = _request(shared, endpoint, principal)
    expected = _expected(endpoint.scope, principal)
    if expected is None:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == expected, response.text
        code = "unauthorized" if expected == 401 else "forbidden"
        assert response.json()["error"]["code"] == code
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_live_app_has_the_routes_the_matrix_was_made_from(shared: LiveServer) -> None:
    assert api_endpoints(shared.app) == MUTATING_ENDPOINTS


# -- Nothing refused says whether a run exists.

RUN_ENDPOINTS = [e for e in api_endpoints(APP, MUTATING | {"GET"}) if "{run_id}" in e.path] + [
    Endpoint("GET", "/api/v1/compare?base={run_id}&head={run_id}", "read")
]
REFUSALS = [
    pytest.param(endpoint, principal, id=f"{endpoint}-{principal}")
    for endpoint in RUN_ENDPOINTS
    for principal in ("none", "wrong", "read")
    if _expected(endpoint.scope, principal) is not None
]


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    """A server whose reads need a token, and a run in it."""
    root = tmp_path_factory.mktemp("private")
    with (
        database("sqlite", root) as url,
        live_server(root / "project", url, public_read=False) as live,
    ):
        run_id = write_run(live.store, [result("tests/a.assay.yaml::one")])
        yield live, run_id


@pytest.mark.parametrize(("endpoint", "principal"), REFUSALS)
def test_a_refusal_is_the_same_for_a_run_that_exists_and_one_that_does_not(
    private: tuple[LiveServer, int], endpoint: Endpoint, principal: str
) -> None:
    server, run_id = private
    expected = _expected(endpoint.scope, principal)
    existing = _request(server, endpoint, principal, endpoint.url(run_id))
    missing = _request(server, endpoint, principal, endpoint.url(run_id + MISSING))
    assert existing.status_code == expected, existing.text
    assert (missing.status_code, missing.content) == (existing.status_code, existing.content)
    assert dict(missing.headers) | {"date": ""} == dict(existing.headers) | {"date": ""}


# -- Public reads.


@pytest.mark.parametrize(
    ("host", "public_read", "public"),
    [
        ("127.0.0.1", None, True),
        ("localhost", None, True),
        ("::1", None, True),
        ("127.0.0.2", None, True),
        ("0.0.0.0", None, False),
        ("::", None, False),
        ("192.168.1.5", None, False),
        ("assay.example.com", None, False),
        ("127.0.0.1", False, False),
        ("0.0.0.0", True, True),
    ],
    ids=[
        "loopback",
        "localhost",
        "ipv6-loopback",
        "loopback-range",
        "all-interfaces",
        "ipv6-all",
        "lan",
        "hostname",
        "loopback-private",
        "public-by-choice",
    ],
)
def test_reads_are_public_on_loopback_unless_configured(
    host: str, public_read: bool | None, public: bool
) -> None:
    config = ServerConfig(Settings(root=Path("/nonexistent")), host=host, public_read=public_read)
    assert config.read_is_public is public


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({}, 200),
        ({"public_read": False}, 401),
        ({"host": "0.0.0.0"}, 401),
        ({"host": "0.0.0.0", "public_read": True}, 200),
    ],
    ids=["loopback-default", "private", "not-loopback", "public-by-choice"],
)
def test_reading_without_a_token(tmp_path: Path, options: dict[str, Any], status: int) -> None:
    # The server listens on loopback whatever `host` says; the config decides who may read.
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "project", url, **options) as server,
    ):
        run_id = write_run(server.store, [result("tests/a.assay.yaml::one")])
        with server.client() as anonymous:
            runs = anonymous.get("/api/v1/runs")
            run = anonymous.get(f"/api/v1/runs/{run_id}")
            tokens = anonymous.get("/api/v1/tokens")
            start = anonymous.post("/api/v1/runs", json={"suite": "suites"})
        with server.client(token="assay_wrong") as wrong:
            wrong_read = wrong.get("/api/v1/runs")
        with server.client("read") as reader:
            read = reader.get("/api/v1/runs")
    assert (runs.status_code, run.status_code) == (status, status)
    assert tokens.status_code == 401  # admin reads are never public
    assert start.status_code == 401
    assert wrong_read.status_code == 401  # a token that is sent is checked
    assert read.status_code == 200


# -- Origins: live streams, and changes made with the dashboard's cookie.


@pytest.fixture
def finished_run(sqlite_server: LiveServer) -> tuple[LiveServer, int]:
    """A server with one finished run, whose event stream ends at once."""
    return sqlite_server, write_run(sqlite_server.store, [result("tests/a.assay.yaml::one")])


@pytest.mark.parametrize(
    ("origin", "status"),
    [(None, 200), ("same", 200), (EVIL, 403), ("http://127.0.0.1:1", 403)],
    ids=["no-origin", "same-origin", "foreign", "other-port"],
)
@pytest.mark.parametrize("stream", ["events", "results/0/log"], ids=["events", "log"])
def test_live_streams_check_the_origin(
    finished_run: tuple[LiveServer, int], stream: str, origin: str | None, status: int
) -> None:
    server, run_id = finished_run
    headers = {} if origin is None else {"Origin": server.url if origin == "same" else origin}
    with (
        server.client("read") as client,
        client.stream("GET", f"/api/v1/runs/{run_id}/{stream}", headers=headers) as response,
    ):
        body = response.read()
    assert response.status_code == status, body
    if status == 200:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert body.rstrip().endswith(b"}")  # the last event's data: the stream ended
    else:
        assert b'"forbidden"' in body


def test_allowed_origins_may_open_live_streams(tmp_path: Path) -> None:
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "project", url, allowed_origins=("http://dash.example",)) as server,
    ):
        run_id = write_run(server.store, [result("tests/a.assay.yaml::one")])
        with server.client("read") as client:
            allowed = client.get(
                f"/api/v1/runs/{run_id}/events", headers={"Origin": "http://dash.example/page"}
            )
            refused = client.get(f"/api/v1/runs/{run_id}/events", headers={"Origin": EVIL})
    assert allowed.status_code == 200
    assert b"event: run.finished" in allowed.content
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("credential", "method", "origin", "status"),
    [
        ("cookie", "POST", EVIL, 403),
        ("cookie", "POST", "same", 404),
        ("cookie", "POST", None, 404),
        ("cookie", "GET", EVIL, 404),
        ("bearer", "POST", EVIL, 404),
        ("wrong-cookie", "POST", "same", 401),
    ],
    ids=[
        "cookie-foreign",
        "cookie-same-origin",
        "cookie-no-origin",
        "cookie-read-foreign",
        "bearer-foreign",
        "wrong-cookie",
    ],
)
def test_changes_by_cookie_must_come_from_the_servers_origin(
    sqlite_server: LiveServer, credential: str, method: str, origin: str | None, status: int
) -> None:
    # 404 is past auth: the run to cancel (or read) does not exist.
    path = f"/api/v1/runs/{MISSING}" + ("/cancel" if method == "POST" else "")
    secret = "assay_wrong" if credential == "wrong-cookie" else sqlite_server.token("run")
    headers = (
        {} if origin is None else {"Origin": sqlite_server.url if origin == "same" else origin}
    )
    if credential == "bearer":
        headers["Authorization"] = f"Bearer {secret}"
    cookies = {} if credential == "bearer" else {COOKIE: secret}
    with httpx.Client(base_url=sqlite_server.url, cookies=cookies, timeout=30) as client:
        response = client.request(method, path, headers=headers)
    assert response.status_code == status, response.text
