"""The REST API on a real server, over SQLite and PostgreSQL.

Listings and their filters, sorting and cursors; a run's results; tests and
what history says about them; comparisons; artifacts; tokens; body limits;
and the one shape every error has. History goes into the database through
`store.writes` (`fixtures.databases.write_run`), the path recording takes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.databases import T0, database, result, rows, write_run
from fixtures.server import LiveServer, live_server

START = T0.timestamp()


def walk(client: httpx.Client, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, following `next` from page to page.

    Each page holds at most `limit` items, a page with a `next` is not empty,
    and no cursor comes twice (which would loop).
    """
    items: list[dict[str, Any]] = []
    cursors: set[str] = set()
    cursor = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items
        assert page["items"], "a page that has a next one must not be empty"
        assert cursor not in cursors
        cursors.add(cursor)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """`response` is an error in the documented shape; returns its `error`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)


def cursor_of(value: object) -> str:
    """A cursor as the server spells them: base64url JSON without padding."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# -- Runs: listing, filters, sorting, cursors.


@dataclass(frozen=True, slots=True)
class Seeded:
    """A run written for these tests, and what the filters should see of it."""

    id: int
    started_at: float
    branch: str
    trigger: str
    status: str


def seed_runs(server: LiveServer) -> list[Seeded]:
    """Twenty-four runs on two branches and triggers; every fifth fails, the last is running.

    Start times carry digits below the microsecond, as `time.time()` gives,
    and two runs start at the same instant: cursors must cope with both.
    """
    seeded = []
    for i in range(24):
        started = START + (i - (i == 11)) * 600.123456789
        branch = "feature" if i % 3 == 0 else "main"
        trigger = "ci" if i % 4 == 0 else "cli"
        failing = i % 5 == 0
        finished = i != 23
        records = [
            result("tests/a.assay.yaml::one"),
            result("tests/a.assay.yaml::two", "failed" if failing else "passed"),
        ]
        run_id = write_run(
            server.store,
            records,
            started_at=started,
            branch=branch,
            trigger=trigger,
            finished=finished,
        )
        status = "running" if not finished else "failed" if failing else "passed"
        seeded.append(Seeded(run_id, started, branch, trigger, status))
    return seeded


def newest_first(runs: list[Seeded]) -> list[int]:
    return [r.id for r in sorted(runs, key=lambda r: (r.started_at, r.id), reverse=True)]


@pytest.mark.parametrize("limit", [1, 5, 500], ids=["limit-1", "limit-5", "one-page"])
@pytest.mark.parametrize("sort", ["-started_at", "started_at"], ids=["newest", "oldest"])
def test_runs_page_by_cursor_without_gaps_or_repeats(
    server: LiveServer, sort: str, limit: int
) -> None:
    seeded = seed_runs(server)
    expected = newest_first(seeded)
    if sort == "started_at":
        expected.reverse()
    with server.client("read") as client:
        found = walk(client, "/api/v1/runs", limit, sort=sort)
    assert [r["id"] for r in found] == expected


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


# Boundaries fall between two runs' start times: the filters are exact, not rounded.
BETWEEN_5_AND_6 = START + 5.5 * 600.123456789
BETWEEN_17_AND_18 = START + 17.5 * 600.123456789
FILTERS: list[tuple[dict[str, str], Callable[[Seeded], bool]]] = [
    ({"status": "failed"}, lambda r: r.status == "failed"),
    ({"status": "passed"}, lambda r: r.status == "passed"),
    ({"status": "running"}, lambda r: r.status == "running"),
    ({"status": "interrupted"}, lambda r: False),
    ({"branch": "feature"}, lambda r: r.branch == "feature"),
    ({"branch": "nowhere"}, lambda r: False),
    ({"trigger": "ci"}, lambda r: r.trigger == "ci"),
    ({"since": _iso(BETWEEN_5_AND_6)}, lambda r: r.started_at >= BETWEEN_5_AND_6),
    ({"until": _iso(BETWEEN_5_AND_6)}, lambda r: r.started_at < BETWEEN_5_AND_6),
    (
        {"since": _iso(BETWEEN_5_AND_6), "until": _iso(BETWEEN_17_AND_18)},
        lambda r: BETWEEN_5_AND_6 <= r.started_at < BETWEEN_17_AND_18,
    ),
    (
        {"since": "2025-03-01T12:00:00+02:00"},  # 10:00 UTC, an hour after T0
        lambda r: r.started_at >= START + 1800,
    ),
    (
        {"branch": "main", "trigger": "cli", "status": "passed"},
        lambda r: (r.branch, r.trigger, r.status) == ("main", "cli", "passed"),
    ),
]


@pytest.mark.parametrize(
    ("params", "keep"),
    FILTERS,
    ids=[
        "failed",
        "passed",
        "running",
        "interrupted-none",
        "branch",
        "branch-none",
        "trigger",
        "since",
        "until",
        "since-until",
        "since-with-offset",
        "combined",
    ],
)
def test_runs_filter_by_status_branch_trigger_and_date(
    server: LiveServer, params: dict[str, str], keep: Callable[[Seeded], bool]
) -> None:
    seeded = seed_runs(server)
    with server.client("read") as client:
        found = walk(client, "/api/v1/runs", 3, **params)
    assert [r["id"] for r in found] == newest_first([r for r in seeded if keep(r)])
    for run in found:
        for name in ("status", "branch", "trigger"):
            if name in params:
                assert run[name] == params[name]


def test_a_date_without_an_offset_is_refused(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("read") as client:
        response = client.get("/api/v1/runs", params={"since": "2025-03-01T09:30:00"})
    error = assert_error(response, 422, "invalid_request")
    assert error["details"][0]["location"] == ["query", "since"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        cursor_of({"started_at": 1}),
        cursor_of([1.5]),
        cursor_of(["x", 1]),
        cursor_of([1.5, True]),
        cursor_of([1.5, 2**70]),
        base64.urlsafe_b64encode(b"[NaN, 1]").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
    ids=["garbage", "object", "short", "types", "bool", "huge", "nan", "binary"],
)
def test_a_bad_cursor_is_a_400_with_the_error_body(sqlite_server: LiveServer, cursor: str) -> None:
    with sqlite_server.client("read") as client:
        response = client.get("/api/v1/runs", params={"cursor": cursor})
    error = assert_error(response, 400, "bad_request")
    assert "cursor" in error["message"]


def test_one_run_and_the_projects(server: LiveServer) -> None:
    seeded = seed_runs(server)
    first = seeded[0]
    with server.client("read") as client:
        run = client.get(f"/api/v1/runs/{first.id}").json()
        missing = client.get("/api/v1/runs/999999")
        projects = client.get("/api/v1/projects").json()
        other = client.get("/api/v1/runs", params={"project": "elsewhere"}).json()
    assert run["id"] == first.id
    assert (run["project"], run["branch"], run["trigger"], run["status"]) == (
        "demo",
        first.branch,
        first.trigger,
        first.status,
    )
    assert (run["total"], run["passed"], run["failed"]) == (2, 1, 1)
    assert datetime.fromisoformat(run["started_at"]).timestamp() == pytest.approx(
        first.started_at, abs=1e-6
    )
    assert_error(missing, 404, "not_found")
    (project,) = projects
    assert (project["name"], project["runs"]) == ("demo", len(seeded))
    assert datetime.fromisoformat(project["last_run_at"]).timestamp() == pytest.approx(
        max(r.started_at for r in seeded), abs=1e-6
    )
    assert other == {"items": [], "next": None}


# -- A run's results.

OUTCOMES = ("passed", "failed", "error", "timeout", "skipped")
ODD = (
    "tests/odd.assay.yaml::50% off",
    "tests/odd.assay.yaml::50 percent off",
    "tests/odd.assay.yaml::snake_case",
    "tests/odd.assay.yaml::snakeXcase",
)
RETRIED = 3  # the position of the result that passed on its second attempt
LOG = "".join(f"line {i:04d} of a long log\n" for i in range(400))  # over 4 KiB: an artifact


def seed_results(server: LiveServer) -> int:
    """A run of 34 results: every outcome, tied durations, odd names, a retry and a long log."""
    records = []
    for i in range(30):
        key = f"tests/api.assay.yaml::case {i:02d}"
        outcome = "passed" if i == RETRIED else OUTCOMES[i % 5]
        stdout = LOG if i == 0 else None
        duration = (i * 7 % 5) / 10
        records.append(
            result(key, outcome, duration=duration, retried=int(i == RETRIED), stdout=stdout)
        )
    records += [result(key) for key in ODD]
    return write_run(server.store, records)


def all_results(client: httpx.Client, run_id: int) -> list[dict[str, Any]]:
    page = client.get(f"/api/v1/runs/{run_id}/results", params={"limit": 500}).json()
    assert page["next"] is None
    return list(page["items"])


def test_results_page_by_cursor_in_report_order(server: LiveServer) -> None:
    run_id = seed_results(server)
    with server.client("read") as client:
        found = walk(client, f"/api/v1/runs/{run_id}/results", 7)
    assert [r["position"] for r in found] == list(range(34))
    assert found[0]["key"] == "tests/api.assay.yaml::case 00"
    assert found[0]["attempts"] is None  # only when asked for


@pytest.mark.parametrize(
    "outcomes",
    [["failed"], ["skipped"], ["failed", "error", "timeout"]],
    ids=["failed", "skipped", "bad"],
)
def test_results_filter_by_outcome(server: LiveServer, outcomes: list[str]) -> None:
    run_id = seed_results(server)
    with server.client("read") as client:
        everything = all_results(client, run_id)
        found = walk(client, f"/api/v1/runs/{run_id}/results", 4, outcome=outcomes)
    expected = [r["position"] for r in everything if r["outcome"] in outcomes]
    assert expected
    assert [r["position"] for r in found] == expected


@pytest.mark.parametrize(
    ("search", "names"),
    [
        ("case 1", [f"case {i}" for i in range(10, 20)]),
        ("50%", ["50% off"]),
        ("snake_case", ["snake_case"]),
        ("CASE 1", [f"case {i}" for i in range(10, 20)]),
        ("nothing like it", []),
    ],
    ids=["substring", "percent-is-literal", "underscore-is-literal", "any-case", "none"],
)
def test_results_search_by_name(server: LiveServer, search: str, names: list[str]) -> None:
    run_id = seed_results(server)
    with server.client("read") as client:
        found = walk(client, f"/api/v1/runs/{run_id}/results", 3, search=search)
    assert [r["name"] for r in found] == names


def test_results_slowest_first_page_by_cursor(server: LiveServer) -> None:
    run_id = seed_results(server)
    with server.client("read") as client:
        everything = all_results(client, run_id)
        found = walk(client, f"/api/v1/runs/{run_id}/results", 4, sort="-duration")
        failed = walk(
            client, f"/api/v1/runs/{run_id}/results", 2, sort="-duration", outcome="failed"
        )
    expected = sorted(everything, key=lambda r: (-r["duration"], r["position"]))
    assert len({r["duration"] for r in everything}) < len(everything)  # ties to break
    assert [r["position"] for r in found] == [r["position"] for r in expected]
    assert [r["position"] for r in failed] == [
        r["position"] for r in expected if r["outcome"] == "failed"
    ]


def test_one_result_has_every_attempt(server: LiveServer) -> None:
    run_id = seed_results(server)
    with server.client("read") as client:
        one = client.get(f"/api/v1/runs/{run_id}/results/{RETRIED}")
        listed = client.get(
            f"/api/v1/runs/{run_id}/results", params={"attempts": "true", "limit": 5}
        ).json()
        beyond = client.get(f"/api/v1/runs/{run_id}/results/34")
        elsewhere = client.get(f"/api/v1/runs/{run_id + 1}/results/0")
    assert one.status_code == 200, one.text
    retried = one.json()
    assert (retried["outcome"], retried["flaky"], retried["position"]) == ("passed", True, RETRIED)
    first, second = retried["attempts"]
    assert (first["number"], first["outcome"], second["number"], second["outcome"]) == (
        1,
        "failed",
        2,
        "passed",
    )
    assert first["failures"] == [
        {"expectation": "exit", "message": "exit code 1, expected 0"}
        | {
            "expected": None,
            "actual": None,
            "diff": None,
        }
    ]
    assert listed["items"][RETRIED]["attempts"] == retried["attempts"]
    assert_error(beyond, 404, "not_found")
    assert_error(elsewhere, 404, "not_found")


# -- Tests and their history.

FLIPS = "tests/flip.assay.yaml::flips"
RETRIES = "tests/flip.assay.yaml::passes on retry"
STEADY = [f"tests/steady.assay.yaml::steady {i}" for i in range(3)]
FLIP_OUTCOMES = ("passed", "failed", "passed", "failed", "passed", "passed")


def seed_history(server: LiveServer) -> list[int]:
    """Six runs, each on its own commit: one test flips, one passes on a retry once."""
    run_ids = []
    for n, outcome in enumerate(FLIP_OUTCOMES):
        records = [
            result(FLIPS, outcome, message=f"expected 0, got {n}"),
            result(RETRIES, retried=int(n == 2)),
            *(result(key) for key in STEADY),
        ]
        run_ids.append(
            write_run(server.store, records, started_at=START + 60 * n, commit=f"{n:040x}")
        )
    return run_ids


def test_tests_are_listed_searched_and_paged(server: LiveServer) -> None:
    seed_history(server)
    with server.client("read") as client:
        everything = walk(client, "/api/v1/tests", 2)
        steady = walk(client, "/api/v1/tests", 2, search="steady")
        bad_cursor = client.get("/api/v1/tests", params={"cursor": cursor_of([1])})
    keys = sorted([FLIPS, RETRIES, *STEADY])
    assert [t["key"] for t in everything] == keys
    assert [t["key"] for t in steady] == STEADY
    flips = everything[keys.index(FLIPS)]
    assert (flips["name"], flips["file"], flips["kind"]) == (
        "flips",
        "tests/flip.assay.yaml",
        "run",
    )
    assert datetime.fromisoformat(flips["first_seen"]) < datetime.fromisoformat(flips["last_seen"])
    assert_error(bad_cursor, 400, "bad_request")


def test_a_tests_history_says_why_it_is_flaky(server: LiveServer) -> None:
    run_ids = seed_history(server)
    with server.client("read") as client:
        flips = client.get(f"/api/v1/tests/{FLIPS}").json()
        steady = client.get(f"/api/v1/tests/{STEADY[0]}").json()
        short = client.get(f"/api/v1/tests/{FLIPS}", params={"limit": 2}).json()
        unknown = client.get("/api/v1/tests/tests/flip.assay.yaml::never heard of it")
    assert flips["key"] == FLIPS
    assert [s["run_id"] for s in flips["samples"]] == run_ids  # oldest first
    assert [s["outcome"] for s in flips["samples"]] == list(FLIP_OUTCOMES)
    assert flips["samples"][1]["message"] == "exit: expected 0, got 1"
    assert flips["samples"][3]["commit"] == f"{3:040x}"
    flaky = flips["flaky"]
    assert flaky["test_id"] == FLIPS and flaky["samples"] == 6 and 0 < flaky["score"] <= 1
    assert any("flip" in reason for reason in flaky["reasons"]), flaky["reasons"]
    assert steady["flaky"] is None and len(steady["samples"]) == 6
    assert [s["run_id"] for s in short["samples"]] == run_ids[-2:]
    assert_error(unknown, 404, "not_found")


def test_flaky_tests_and_failure_clusters(server: LiveServer) -> None:
    run_ids = seed_history(server)
    with server.client("read") as client:
        flaky = client.get("/api/v1/flaky").json()
        failures = client.get("/api/v1/failures").json()
        narrow = client.get("/api/v1/failures", params={"runs": 1}).json()
    by_id = {f["test_id"]: f for f in flaky}
    assert set(by_id) == {FLIPS, RETRIES}
    assert any("retry" in reason for reason in by_id[RETRIES]["reasons"])
    assert flaky == sorted(flaky, key=lambda f: -f["score"])
    (cluster,) = failures
    assert cluster["tests"] == [FLIPS]
    assert (cluster["count"], cluster["runs"]) == (2, 2)
    assert "expected 0, got" in cluster["example"]
    assert narrow == []  # the last run passed
    assert run_ids


def test_compare_two_runs(server: LiveServer) -> None:
    base = write_run(
        server.store,
        [
            result("t.assay.yaml::breaks"),
            result("t.assay.yaml::is fixed", "failed"),
            result("t.assay.yaml::keeps failing", "failed"),
            result("t.assay.yaml::slows down", duration=0.1),
            result("t.assay.yaml::goes away"),
        ],
    )
    head = write_run(
        server.store,
        [
            result("t.assay.yaml::breaks", "error"),
            result("t.assay.yaml::is fixed"),
            result("t.assay.yaml::keeps failing", "timeout"),
            result("t.assay.yaml::slows down", duration=1.0),
            result("t.assay.yaml::is new"),
        ],
        started_at=START + 60,
    )
    with server.client("read") as client:
        response = client.get("/api/v1/compare", params={"base": base, "head": head})
        missing = client.get("/api/v1/compare", params={"base": base, "head": 999999})
    assert response.status_code == 200, response.text
    comparison = response.json()
    assert (comparison["base"], comparison["head"]) == (base, head)
    assert comparison["new_failures"] == [
        {"test_id": "t.assay.yaml::breaks", "base": "passed", "head": "error"}
    ]
    assert comparison["fixed"] == [
        {"test_id": "t.assay.yaml::is fixed", "base": "failed", "head": "passed"}
    ]
    assert comparison["still_failing"] == [
        {"test_id": "t.assay.yaml::keeps failing", "base": "failed", "head": "timeout"}
    ]
    assert comparison["new_tests"] == [
        {"test_id": "t.assay.yaml::is new", "base": None, "head": "passed"}
    ]
    assert comparison["removed_tests"] == [
        {"test_id": "t.assay.yaml::goes away", "base": "passed", "head": None}
    ]
    (slowdown,) = comparison["slowdowns"]
    assert slowdown["test_id"] == "t.assay.yaml::slows down"
    assert slowdown["ratio"] == pytest.approx(10)
    assert_error(missing, 404, "not_found")


# -- Artifacts.


def log_artifact(server: LiveServer) -> str:
    """The digest of the long log that `seed_results` stores."""
    run_id = seed_results(server)
    with server.client("read") as client:
        attempt = client.get(f"/api/v1/runs/{run_id}/results/0").json()["attempts"][-1]
    digest = attempt["stdout"]["artifact"]
    assert digest == hashlib.sha256(LOG.encode()).hexdigest()
    assert attempt["stdout"]["size"] == len(LOG)
    return str(digest)


def test_an_artifact_is_downloaded_with_its_type_and_in_ranges(server: LiveServer) -> None:
    digest = log_artifact(server)
    url = f"/api/v1/artifacts/{digest}"
    with server.client("read") as client:
        whole = client.get(url)
        part = client.get(url, headers={"Range": "bytes=10-29"})
        tail = client.get(url, headers={"Range": "bytes=-5"})
        with client.stream("GET", url) as streamed:
            chunks = list(streamed.iter_bytes())
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "text/plain; charset=utf-8"
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == LOG.encode()
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 10-29/{len(LOG)}"
    assert part.content == LOG.encode()[10:30]
    assert (tail.status_code, tail.content) == (206, LOG.encode()[-5:])
    assert b"".join(chunks) == LOG.encode()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/artifacts/" + hashlib.sha256(b"never stored").hexdigest(), 404),
        ("/api/v1/artifacts/" + "A" * 64, 422),
        ("/api/v1/artifacts/not-hex", 422),
        ("/api/v1/artifacts/..%2f..%2f..%2f..%2fetc%2fpasswd", 404),
        ("/api/v1/artifacts/..%2fassay.db", 404),
        ("/api/v1/artifacts/%2e%2e%2fassay.db", 404),
        ("/api/v1/artifacts/..%5cassay.db", 422),
        ("/api/v1/artifacts/%2e%2e", 422),
        ("/api/v1/artifacts/" + "0" * 62 + "%2f..", 404),
    ],
    ids=[
        "unknown",
        "uppercase",
        "not-hex",
        "etc-passwd",
        "database",
        "encoded-dots",
        "backslash",
        "dot-dot",
        "digest-then-dots",
    ],
)
def test_no_artifact_path_reaches_outside_the_store(
    server: LiveServer, path: str, status: int
) -> None:
    log_artifact(server)  # something is stored beside the database
    with server.client("read") as client:
        response = client.get(httpx.URL(server.url + path))
    assert_error(response, status, "not_found" if status == 404 else "invalid_request")
    assert b"root:" not in response.content and b"SQLite" not in response.content


def test_an_artifact_the_database_does_not_know_is_not_served(server: LiveServer) -> None:
    digest = server.store.artifacts.put_bytes(b"a file nobody recorded\n")
    with server.client("read") as client:
        response = client.get(f"/api/v1/artifacts/{digest}")
    assert_error(response, 404, "not_found")


# -- Tokens.


def test_tokens_are_made_listed_used_and_revoked(server: LiveServer) -> None:
    with server.client("admin") as admin:
        created = admin.post("/api/v1/tokens", json={"name": "ci", "scopes": ["run", "read"]})
        assert created.status_code == 201, created.text
        token = created.json()
        listed = {t["id"]: t for t in admin.get("/api/v1/tokens").json()}
        with server.client(token=token["token"]) as ci:
            used = ci.get("/api/v1/runs")
        after_use = {t["id"]: t for t in admin.get("/api/v1/tokens").json()}
        revoked = admin.delete(f"/api/v1/tokens/{token['id']}")
        again = admin.delete(f"/api/v1/tokens/{token['id']}")
        missing = admin.delete("/api/v1/tokens/999999")
        with server.client(token=token["token"]) as ci:
            refused = ci.get("/api/v1/runs")
    assert token["token"].startswith("assay_") and len(token["token"]) > 40
    assert (token["name"], token["scopes"], token["revoked"]) == ("ci", ["read", "run"], False)
    assert token["last_used_at"] is None
    assert "token" not in listed[token["id"]]
    assert listed[token["id"]]["last_used_at"] is None
    assert used.status_code == 200
    assert after_use[token["id"]]["last_used_at"] is not None
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert again.status_code == 200 and again.json()["revoked"] is True
    assert_error(missing, 404, "not_found")
    assert_error(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"] == "Bearer"
    # Only the digest is kept: the secret is nowhere in the database.
    (stored,) = rows(server.store, "SELECT digest FROM tokens WHERE id = :id", id=token["id"])
    assert stored == (hashlib.sha256(token["token"].encode()).hexdigest(),)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": ["read"], "secret": "mine"},
        {"scopes": ["read"]},
    ],
    ids=["unknown-scope", "no-scope", "no-name", "extra-field", "missing-name"],
)
def test_a_bad_token_request_is_a_422(sqlite_server: LiveServer, body: dict[str, Any]) -> None:
    with sqlite_server.client("admin") as admin:
        response = admin.post("/api/v1/tokens", json=body)
    error = assert_error(response, 422, "invalid_request")
    assert error["details"] and error["details"][0]["location"][0] == "body"


# -- Limits and the shape of errors.


@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        ("GET", "/api/v1/runs/2147483648", None, ["path", "run_id"]),
        ("GET", "/api/v1/runs/1/results/99999999999999999999", None, ["path", "position"]),
        ("GET", "/api/v1/compare?base=1&head=2147483648", None, ["query", "head"]),
        ("DELETE", "/api/v1/tokens/2147483648", None, ["path", "token_id"]),
        ("GET", "/api/v1/runs?branch=a%00b", None, ["query", "branch"]),
        ("GET", "/api/v1/runs/1/results?search=%00", None, ["query", "search"]),
        ("GET", "/api/v1/tests/a%00b", None, ["path", "key"]),
        ("GET", "/api/v1/flaky?project=%00", None, ["query", "project"]),
        ("POST", "/api/v1/tokens", {"name": "a\x00b", "scopes": ["read"]}, ["body", "name"]),
        ("POST", "/api/v1/runs", {"suite": "suites\x00"}, ["body", "suite"]),
    ],
    ids=[
        "run-id",
        "position",
        "compare",
        "token-id",
        "nul-branch",
        "nul-search",
        "nul-key",
        "nul-project",
        "nul-token-name",
        "nul-suite",
    ],
)
def test_values_the_database_cannot_hold_are_a_422(
    server: LiveServer, method: str, path: str, body: dict[str, Any] | None, where: list[str]
) -> None:
    # Without bounds, these reached the driver: an overflow, or PostgreSQL refusing NUL.
    with server.client("admin") as client:
        response = client.request(method, path, json=body)
    error = assert_error(response, 422, "invalid_request")
    assert error["details"][0]["location"] == where


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_a_413(tmp_path: Path, chunked: bool) -> None:
    body = json.dumps({"name": "x" * 8000, "scopes": ["read"]}).encode()
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "project", url, max_body=2048) as small,
        small.client("admin") as admin,
    ):
        fits = admin.post("/api/v1/tokens", json={"name": "fits", "scopes": ["read"]})
        content = (body[i : i + 1000] for i in range(0, len(body), 1000)) if chunked else body
        response = admin.post(
            "/api/v1/tokens", content=content, headers={"Content-Type": "application/json"}
        )
    assert fits.status_code == 201
    error = assert_error(response, 413, "too_large")
    assert "2048" in error["message"]


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status", "code"),
    [
        (("read",), "GET", "/api/v1/runs?cursor=bad", 400, "bad_request"),
        (("wrong",), "GET", "/api/v1/runs", 401, "unauthorized"),
        (("read",), "POST", "/api/v1/tokens", 403, "forbidden"),
        (("read",), "GET", "/api/v1/runs/999999", 404, "not_found"),
        (("read",), "GET", "/api/v1/nothing-here", 404, "not_found"),
        (("admin",), "DELETE", "/api/v1/runs", 405, "method_not_allowed"),
        (("read",), "GET", "/api/v1/runs?limit=0", 422, "invalid_request"),
    ],
    ids=["400", "401", "403", "404", "404-route", "405", "422"],
)
def test_every_error_has_one_shape(
    sqlite_server: LiveServer,
    scopes: tuple[str, ...],
    method: str,
    path: str,
    status: int,
    code: str,
) -> None:
    token = "assay_wrong" if scopes == ("wrong",) else None
    with sqlite_server.client(*([] if token else scopes), token=token) as client:
        response = client.request(method, path)
    error = assert_error(response, status, code)
    if status == 405:
        assert response.headers["allow"] == "GET, POST"
    if status == 422:
        assert error["details"] == [
            {"location": ["query", "limit"], "message": error["details"][0]["message"]}
        ]
        assert error["message"].startswith("query.limit: ")
    else:
        assert error["details"] is None
