"""Starting, following, reading and cancelling runs through the API, on a real server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil
import pytest

from assay.store import writes
from fixtures.databases import database, result, write_run
from fixtures.server import LiveServer, live_server


def events_of(server: LiveServer, run_id: int, **params: int) -> list[tuple[int, str, dict]]:
    """Every event of a run's stream, read until it ends."""
    found = []
    with (
        server.client("read") as client,
        client.stream("GET", f"/api/v1/runs/{run_id}/events", params=params) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        seq, kind = 0, ""
        for line in response.iter_lines():
            if line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                found.append((seq, kind, json.loads(line[6:])))
    return found


def test_a_started_run_executes_is_streamed_and_stored(server: LiveServer) -> None:
    with server.client("run") as client:
        created = client.post("/api/v1/runs", json={"suite": "suites"})
    assert created.status_code == 202, created.text
    run_id = created.json()["id"]
    assert created.headers["location"] == f"/api/v1/runs/{run_id}"

    events = events_of(server, run_id)
    kinds = [kind for _, kind, _ in events]
    assert kinds[0] == "run.started" and kinds[-1] == "run.finished"
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    assert kinds.count("test.finished") == 3

    run = server.wait_for_run(run_id)
    assert (run["status"], run["passed"], run["failed"], run["trigger"]) == (
        "failed",
        2,
        1,
        "server",
    )
    with server.client("read") as client:
        failed = client.get(
            f"/api/v1/runs/{run_id}/results", params={"outcome": "failed", "attempts": "true"}
        ).json()
    (result,) = failed["items"]
    assert result["name"] == "wants yes"
    assert "-yes\n+nope" in result["attempts"][0]["failures"][0]["diff"]


def test_a_client_resumes_from_the_last_event_it_saw(server: LiveServer) -> None:
    with server.client("run") as client:
        run_id = client.post("/api/v1/runs", json={"suite": "suites"}).json()["id"]
    everything = events_of(server, run_id)
    resumed = events_of(server, run_id, after=4)
    assert resumed == everything[4:]


def test_results_page_by_cursor_in_report_order(server: LiveServer) -> None:
    with server.client("run") as client:
        run_id = client.post("/api/v1/runs", json={"suite": "suites"}).json()["id"]
    server.wait_for_run(run_id)
    names, cursor = [], None
    with server.client("read") as client:
        while True:
            page = client.get(
                f"/api/v1/runs/{run_id}/results",
                params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            ).json()
            names += [r["name"] for r in page["items"]]
            cursor = page["next"]
            if cursor is None:
                break
    assert names == ["says hello", "counts slowly", "wants yes"]


def test_cancelling_a_run_kills_its_tests(server: LiveServer) -> None:
    server.write_suite(
        "slow.assay.yaml",
        """\
        tests:
          - name: sleeps
            run: sh -c 'sleep 61.25 & sleep 61.25; wait'
          - name: never starts
            needs: [sleeps]
            run: "true"
        """,
    )
    with server.client("run") as client:
        run_id = client.post("/api/v1/runs", json={"suite": "suites/slow.assay.yaml"}).json()["id"]
        deadline = time.monotonic() + 30
        while client.get(f"/api/v1/runs/{run_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        cancelled = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 202
    run = server.wait_for_run(run_id, timeout=30)
    assert run["status"] == "interrupted"
    assert run["reason"] == "cancelled: cancelled by a user"
    assert (run["errors"], run["skipped"]) == (1, 1)
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if "61.25" in (p.info["cmdline"] or [])]
    assert left == [], "the cancelled test left processes behind"


@pytest.mark.parametrize(
    ("suite", "status", "code"),
    [
        ("nowhere", 404, "not_found"),
        ("../../etc", 404, "not_found"),
        ("suites/../../project", 404, "not_found"),
    ],
    ids=["unknown", "outside", "dotdot"],
)
def test_only_registered_suites_can_be_started(
    sqlite_server: LiveServer, suite: str, status: int, code: str
) -> None:
    with sqlite_server.client("run") as client:
        response = client.post("/api/v1/runs", json={"suite": suite})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_a_malformed_suite_is_a_422_naming_the_line(sqlite_server: LiveServer) -> None:
    sqlite_server.write_suite("broken.assay.yaml", "tests:\n  - name: x\n    runn: true\n")
    with sqlite_server.client("run") as client:
        response = client.post("/api/v1/runs", json={"suite": "suites/broken.assay.yaml"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_spec"
    assert "broken.assay.yaml:3" in error["message"]


def test_health_readiness_and_metrics(sqlite_server: LiveServer) -> None:
    with sqlite_server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok", "detail": None}
        assert client.get("/readyz").json() == {"status": "ok", "detail": None}
        metrics = client.get("/metrics")
    assert metrics.status_code == 200
    for name in (
        "assay_runs",
        "assay_tests",
        "assay_run_duration_seconds",
        "assay_queue_depth",
        "assay_http_request_duration_seconds",
    ):
        assert f"# TYPE {name}" in metrics.text


def test_a_queued_run_can_be_cancelled_before_it_starts(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url, live_server(tmp_path / "p", url, workers=1) as live:
        live.write_suite("slow.assay.yaml", "tests:\n  - name: sleeps\n    run: sleep 30\n")
        with live.client("run") as client:
            first = client.post("/api/v1/runs", json={"suite": "suites/slow.assay.yaml"}).json()
            second = client.post("/api/v1/runs", json={"suite": "suites/slow.assay.yaml"}).json()
            assert client.get(f"/api/v1/runs/{second['id']}").json()["status"] == "queued"
            assert client.post(f"/api/v1/runs/{second['id']}/cancel").status_code == 202
            assert client.post(f"/api/v1/runs/{first['id']}/cancel").status_code == 202
        queued = live.wait_for_run(second["id"])
        assert queued["status"] == "interrupted"
        assert queued["total"] == 0
        events = events_of(live, second["id"])
        assert [kind for _, kind, _ in events] == ["run.finished"]
        assert events[0][2]["interrupted"] == "cancelled: cancelled by a user"


def test_cancelling_a_finished_run_changes_nothing(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("run") as client:
        run_id = client.post("/api/v1/runs", json={"suite": "suites"}).json()["id"]
        sqlite_server.wait_for_run(run_id)
        response = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "failed"


def test_a_running_tests_output_streams_live_and_resumes(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    sqlite_server.write_suite(
        "waits.assay.yaml",
        f"""\
        tests:
          - name: waits for a file
            run: sh -c 'echo first; while [ ! -e {go} ]; do sleep 0.02; done; echo second'
        """,
    )
    with sqlite_server.client("run") as client:
        run_id = client.post("/api/v1/runs", json={"suite": "suites/waits.assay.yaml"}).json()["id"]
    log_url = f"/api/v1/runs/{run_id}/results/0/log"
    seen: list[tuple[str, dict]] = []
    with sqlite_server.client("read") as client:
        with client.stream("GET", f"/api/v1/runs/{run_id}/events") as events:
            for line in events.iter_lines():
                if line == "event: attempt.started":
                    break
        with client.stream("GET", log_url) as stream:
            kind = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    seen.append((kind, json.loads(line[6:])))
                    if kind == "log" and "first" in seen[-1][1]["text"]:
                        # Resuming from the offset just read starts after it.
                        offset = seen[-1][1]["offset"]
                        with client.stream("GET", log_url, params={"after": offset}) as again:
                            go.touch()
                            resumed = [
                                json.loads(line[6:])
                                for line in again.iter_lines()
                                if line.startswith("data: ")
                            ]
                    if kind == "end":
                        break
    assert seen[0] == ("log", {"attempt": 1, "text": "first\n", "offset": 6})
    assert "".join(r.get("text", "") for r in resumed) == "second\n"
    assert seen[-1][0] == "end"
    run = sqlite_server.wait_for_run(run_id)
    assert run["status"] == "passed"
    with sqlite_server.client("read") as client:
        ended = client.get(log_url).text
    # A late watcher of a test that just ended still gets its whole output, then the end.
    assert '"text": "first\\nsecond\\n"' in ended
    assert ended.endswith('event: end\ndata: {"offset": 13}\n\n')


def test_a_run_executing_elsewhere_is_followed_until_it_ends(sqlite_server: LiveServer) -> None:
    # As if another server process on the same database were running it.
    store = sqlite_server.store
    run_id = write_run(store, [result("a.assay.yaml::one")], finished=False)
    with sqlite_server.client("read") as client:
        running = client.get(f"/api/v1/runs/{run_id}").json()
    # Totals are stored when a run finishes; until then they are counted as it goes.
    assert (running["status"], running["total"], running["passed"]) == ("running", 1, 1)
    seen: list[tuple[int, str, dict]] = []
    with (
        sqlite_server.client("read") as client,
        client.stream("GET", f"/api/v1/runs/{run_id}/events") as stream,
    ):
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                seen.append((len(seen) + 1, kind, json.loads(line[6:])))
                if len(seen) == 2:  # the replay is out: now the run ends elsewhere
                    connection = store.connect()
                    project = writes.project_id(connection, store.project, 0.0)
                    two = [(1, result("a.assay.yaml::two", "failed"))]
                    writes.write_results(connection, project, run_id, two, store.artifacts, 0.0)
                    writes.finish_run(connection, run_id, finished_at=2.0, duration=2.0)
                    connection.commit()
                    connection.close()
    kinds = [(k, d.get("position")) for _, k, d in seen]
    assert kinds == [
        ("run.started", None),
        ("test.finished", 0),
        ("test.finished", 1),
        ("run.finished", None),
    ]
    assert seen[-1][2]["counts"]["failed"] == 1
