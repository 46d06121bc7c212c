"""Ingest: remote runs started by key and stored batch by batch, once each, on a real server."""

from __future__ import annotations

import gzip
import json
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.reports.wire import record_document
from fixtures.databases import database, result, rows, scalar, write_run
from fixtures.server import LiveServer, live_server

KiB = 1024


def start(client: httpx.Client, key: str | None = None, **facts: Any) -> httpx.Response:
    """Start (or find again) the remote run with `key`; later batches on `client` carry it."""
    key = key or uuid.uuid4().hex
    body = {"key": key, "started_at": 1_700_000_000.0, "host": "ci-7", **facts}
    response = client.post("/api/v1/ingest/runs", json=body)
    client.headers["X-Assay-Run-Key"] = key
    return response


def finished(position: int, test_id: str, outcome: str = "passed", **options: Any) -> dict:
    """A `test.finished` wire event."""
    return {
        "type": "test.finished",
        "position": position,
        "result": record_document(result(test_id, outcome, **options)),
    }


def run_finished(duration: float = 2.5, interrupted: str | None = None) -> dict:
    """A `run.finished` wire event."""
    return {"type": "run.finished", "duration": duration, "interrupted": interrupted, "counts": {}}


def post(
    client: httpx.Client, run_id: int, seq: int, events: Any, *, raw: bytes | None = None
) -> httpx.Response:
    """Send a batch as the reporter does: JSON, gzip-compressed."""
    body = raw if raw is not None else gzip.compress(json.dumps(events).encode())
    return client.post(
        f"/api/v1/ingest/runs/{run_id}/batches/{seq}",
        content=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


RUN_STARTED = {"type": "run.started", "started_at": 1_700_000_000.0, "jobs": 2, "tests": []}
FIRST = [
    RUN_STARTED,
    {"type": "test.started", "position": 0, "id": "a.assay.yaml::one", "name": "one"},
    finished(0, "a.assay.yaml::one"),
    finished(1, "a.assay.yaml::two", "failed"),
]
SECOND = [finished(2, "a.assay.yaml::three", stdout="x" * 10_000), run_finished()]


def test_a_remote_run_is_stored_batch_by_batch(server: LiveServer) -> None:
    with server.client("run") as client:
        created = start(client, branch="main", commit="c0ffee", options={"tags": ["smoke"]})
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        assert created.headers["location"] == f"/api/v1/runs/{run_id}"
        assert post(client, run_id, 1, FIRST).status_code == 201
        assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
        second = post(client, run_id, 2, SECOND)
    assert second.status_code == 201, second.text
    assert second.json() == {"run": run_id, "seq": 2, "duplicate": False, "results": 1}

    run = server.wait_for_run(run_id)
    assert (run["status"], run["trigger"], run["host"], run["branch"], run["commit"]) == (
        "failed",
        "remote",
        "ci-7",
        "main",
        "c0ffee",
    )
    assert (run["total"], run["passed"], run["failed"], run["duration"]) == (3, 2, 1, 2.5)
    with server.client("read") as client:
        stored = client.get(f"/api/v1/runs/{run_id}/results", params={"attempts": True}).json()
        names = [r["name"] for r in stored["items"]]
        log = stored["items"][2]["attempts"][0]["stdout"]
        whole = client.get(f"/api/v1/artifacts/{log['artifact']}")
    assert names == ["one", "two", "three"]
    # A long log is kept whole as an artifact, as a local recording keeps it.
    assert (log["size"], whole.text) == (10_000, "x" * 10_000)


def test_a_retried_start_is_the_same_run(server: LiveServer) -> None:
    with server.client("run") as client:
        first = start(client, key="k" * 32)
        again = start(client, key="k" * 32)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["created"] is False
    assert scalar(server.store, "SELECT COUNT(*) FROM runs") == 1


def test_a_retried_batch_is_stored_once_and_published_once(server: LiveServer) -> None:
    with server.client("run") as client:
        run_id = start(client).json()["id"]
        assert post(client, run_id, 1, FIRST).status_code == 201
        retried = post(client, run_id, 1, FIRST)
        assert post(client, run_id, 2, SECOND).status_code == 201
        late = post(client, run_id, 2, SECOND)
    assert retried.status_code == 200
    assert retried.json() == {"run": run_id, "seq": 1, "duplicate": True, "results": 2}
    assert late.json()["duplicate"] is True
    assert scalar(server.store, "SELECT COUNT(*) FROM results WHERE run_id = :r", r=run_id) == 3
    assert rows(
        server.store,
        "SELECT seq FROM ingest_batches WHERE run_id = :r AND seq > 0 ORDER BY seq",
        r=run_id,
    ) == [(1,), (2,)]

    kinds = [kind for kind, _ in events_of(server, run_id)]
    assert kinds == [
        "run.started",
        "test.started",
        "test.finished",
        "test.finished",
        "test.finished",
        "run.finished",
    ]


def test_racing_tries_of_a_start_and_a_batch_store_them_once(server: LiveServer) -> None:
    # A reporter whose request timed out tries again while the first try is still running.
    key = uuid.uuid4().hex
    with server.client("run") as client, ThreadPoolExecutor(4) as pool:
        starts = list(pool.map(lambda _: start(client, key=key), range(4)))
        run_id = starts[0].json()["id"]
        batches = list(pool.map(lambda _: post(client, run_id, 1, FIRST), range(4)))
    assert sorted(r.status_code for r in starts) == [200, 200, 200, 201]
    assert {r.json()["id"] for r in starts} == {run_id}
    assert sorted(r.status_code for r in batches) == [200, 200, 200, 201]
    assert scalar(server.store, "SELECT COUNT(*) FROM results WHERE run_id = :r", r=run_id) == 2


def events_of(server: LiveServer, run_id: int) -> list[tuple[str, dict]]:
    """The run's live stream, read until it ends."""
    found = []
    with (
        server.client("read") as client,
        client.stream("GET", f"/api/v1/runs/{run_id}/events") as response,
    ):
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                found.append((kind, json.loads(line[6:])))
    return found


def test_a_batch_after_the_end_or_repeating_results_is_refused(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("run") as client:
        run_id = start(client).json()["id"]
        post(client, run_id, 1, FIRST)
        repeated = post(client, run_id, 2, [finished(1, "a.assay.yaml::two")])
        post(client, run_id, 3, SECOND)
        after = post(client, run_id, 4, [finished(5, "a.assay.yaml::five")])
    assert repeated.status_code == 400
    assert "positions that run" in repeated.json()["error"]["message"]
    assert after.status_code == 400
    assert after.json()["error"]["message"] == f"run {run_id} is finished: it takes no more batches"
    # Neither left anything behind, not even its claim on the sequence number.
    assert rows(
        sqlite_server.store, "SELECT seq FROM ingest_batches WHERE seq > 0 ORDER BY seq"
    ) == [(1,), (3,)]


def test_only_remote_runs_take_batches(sqlite_server: LiveServer) -> None:
    local = write_run(sqlite_server.store, [result("a.assay.yaml::one")], finished=False)
    with sqlite_server.client("run") as client:
        client.headers["X-Assay-Run-Key"] = "k" * 32
        response = post(client, local, 1, FIRST)
        missing = post(client, 999, 1, FIRST)
    assert (response.status_code, missing.status_code) == (404, 404)
    assert response.json()["error"]["message"] == f"no remote run {local}"


@pytest.mark.parametrize(
    ("scopes", "status"), [((), 401), (("read",), 403)], ids=["no-token", "read-only"]
)
def test_ingest_needs_the_run_scope(
    sqlite_server: LiveServer, scopes: tuple[str, ...], status: int
) -> None:
    with sqlite_server.client("run") as client:
        run_id = start(client).json()["id"]
    with sqlite_server.client(*scopes) as client:
        assert start(client).status_code == status
        assert post(client, run_id, 1, FIRST).status_code == status
    assert scalar(sqlite_server.store, "SELECT COUNT(*) FROM ingest_batches WHERE seq > 0") == 0


BAD_GZIP = gzip.compress(json.dumps(FIRST).encode())


@pytest.mark.parametrize(
    ("events", "raw", "message"),
    [
        (None, b"not gzip at all", "the body is not valid gzip"),
        (None, BAD_GZIP[: len(BAD_GZIP) // 2], "the gzip stream ends too early"),
        (None, gzip.compress(b"{not json"), "the batch is not JSON"),
        ({"type": "run.started"}, None, "a batch is a JSON list of events"),
        (["run.started"], None, "event 0: an event is a JSON object"),
        ([{"type": "test.exploded"}], None, "event 0: unknown event type 'test.exploded'"),
        (
            [RUN_STARTED, {**finished(0, "a::b"), "position": -1}],
            None,
            "event 1: test.finished: position must be a whole number, not -1",
        ),
        (
            [{"type": "test.finished", "position": 0, "result": {"outcome": "passed"}}],
            None,
            "event 0: malformed result: KeyError: 'test'",
        ),
        (
            [finished(0, "a::b"), finished(0, "a::c")],
            None,
            "event 1: a second result at position 0",
        ),
        ([run_finished(), finished(0, "a::b")], None, "event 1: nothing may follow run.finished"),
        ([run_finished(duration=-1)], None, "event 0: run.finished: duration must be seconds"),
        (
            [{"type": "attempt.finished", "position": 0, "attempt": {"stdout": {"size": 1}}}],
            None,
            "event 0: attempt.finished: stdout must be null or have a text",
        ),
    ],
    ids=[
        "not-gzip",
        "truncated-gzip",
        "not-json",
        "not-a-list",
        "not-an-object",
        "unknown-type",
        "negative-position",
        "malformed-result",
        "same-position-twice",
        "after-the-end",
        "negative-duration",
        "attempt-without-text",
    ],
)
def test_malformed_batches_are_refused_whole(
    sqlite_server: LiveServer, events: Any, raw: bytes | None, message: str
) -> None:
    with sqlite_server.client("run") as client:
        run_id = start(client).json()["id"]
        response = post(client, run_id, 1, events, raw=raw)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_events"
    assert error["message"].startswith(message)
    assert scalar(sqlite_server.store, "SELECT COUNT(*) FROM ingest_batches WHERE seq > 0") == 0


@pytest.fixture
def small_batches(tmp_path: Path) -> Iterator[LiveServer]:
    """A server that takes batches of at most 64 KiB, decompressed."""
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "project", url, max_batch=64 * KiB) as live,
    ):
        yield live


def gzip_bomb(size: int) -> bytes:
    """A JSON list of `size` spaces, gzip-compressed about a thousandfold."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    spaces = b" " * (1024 * KiB)
    parts = [packer.compress(b"[")]
    parts += [packer.compress(spaces) for _ in range(size // len(spaces))]
    return b"".join([*parts, packer.compress(b"]"), packer.flush()])


def test_a_gzip_bomb_is_stopped_at_the_limit(small_batches: LiveServer) -> None:
    # Under the limit as sent, 32 MiB once inflated: refused as soon as 64 KiB have come out.
    bomb = gzip_bomb(32 * KiB * KiB)
    assert len(bomb) < 64 * KiB
    with small_batches.client("run") as client:
        run_id = start(client).json()["id"]
        response = post(client, run_id, 1, None, raw=bomb)
        plain = client.post(
            f"/api/v1/ingest/runs/{run_id}/batches/1",
            content=b"[" + b" " * (65 * KiB) + b"]",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_large",
        "message": f"the batch is larger than {64 * KiB} bytes once decompressed",
        "details": None,
    }
    assert plain.status_code == 413


def test_an_unknown_encoding_is_415(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("run") as client:
        run_id = start(client).json()["id"]
        response = client.post(
            f"/api/v1/ingest/runs/{run_id}/batches/1",
            content=b"[]",
            headers={"Content-Encoding": "br"},
        )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_encoding"


def test_an_uncompressed_batch_is_taken_too(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("run") as client:
        run_id = start(client).json()["id"]
        response = client.post(f"/api/v1/ingest/runs/{run_id}/batches/1", json=FIRST)
    assert response.status_code == 201, response.text
    assert response.json()["results"] == 2


def test_a_batch_needs_the_key_its_run_was_started_with(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("run") as client:
        run_id = start(client).json()["id"]
        client.headers["X-Assay-Run-Key"] = uuid.uuid4().hex  # someone else's guess
        guessed = post(client, run_id, 1, FIRST)
        del client.headers["X-Assay-Run-Key"]
        unkeyed = post(client, run_id, 1, FIRST)
    assert guessed.status_code == 404
    assert guessed.json()["error"]["message"] == f"no remote run {run_id}"
    assert unkeyed.status_code == 422
    assert scalar(sqlite_server.store, "SELECT COUNT(*) FROM results") == 0


def test_a_remote_run_whose_reporter_went_quiet_is_ended(tmp_path: Path) -> None:
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "project", url, remote_idle=0.2) as live,
    ):
        with live.client("run") as client:
            run_id = start(client, started_at=time.time()).json()["id"]
            assert post(client, run_id, 1, FIRST).status_code == 201
        run = live.wait_for_run(run_id, timeout=30)
    assert run["status"] == "interrupted"
    assert run["reason"] == "no results from its reporter for 0.2s"
    assert run["total"] == 2
