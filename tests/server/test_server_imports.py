"""Uploading foreign results (JUnit XML, pytest report logs) to a real server."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.databases import database, scalar
from fixtures.server import LiveServer, live_server

HISTORY = Path(__file__).parents[2] / "examples" / "history"
KiB = 1024


@pytest.mark.parametrize(
    ("format", "name", "counts"),
    [
        ("junit", "pytest-junit.xml", {"passed": 4, "failed": 1, "skipped": 1}),
        ("reportlog", "pytest-reportlog.jsonl", {"passed": 4, "failed": 1, "skipped": 1}),
        (
            "junit",
            "surefire-TEST-CartTest.xml",
            {"passed": 3, "failed": 1, "error": 1, "skipped": 1},
        ),
    ],
    ids=["pytest-junit", "pytest-reportlog", "surefire"],
)
def test_an_uploaded_file_becomes_a_run(
    server: LiveServer, format: str, name: str, counts: dict[str, int]
) -> None:
    with server.client("run") as client:
        response = client.post(
            "/api/v1/imports",
            params={"format": format, "name": name},
            content=(HISTORY / name).read_bytes(),
        )
        assert response.status_code == 201, response.text
        imported = response.json()
        run = client.get(imported["url"]).json()
    assert imported["by_outcome"] == counts
    assert imported["cases"] == sum(counts.values())
    assert response.headers["location"] == imported["url"] == f"/api/v1/runs/{imported['id']}"
    assert (run["trigger"], run["source"], run["project"]) == ("import", name, "demo")
    assert run["total"] == imported["cases"]


def test_an_upload_can_go_to_another_project(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("run") as client:
        response = client.post(
            "/api/v1/imports",
            params={"project": "payments"},
            content=(HISTORY / "pytest-junit.xml").read_bytes(),
        )
        run_id = response.json()["id"]
        theirs = client.get("/api/v1/runs", params={"project": "payments"}).json()["items"]
        ours = client.get("/api/v1/runs").json()["items"]
    assert [r["id"] for r in theirs] == [run_id]
    assert ours == []


def test_a_malformed_file_is_a_422_naming_the_line_and_stores_nothing(
    server: LiveServer,
) -> None:
    text = '<testsuite name="x">\n  <testcase name="a"/>\n  <testcase name="b">\n</testsuite>\n'
    with server.client("run") as client:
        response = client.post(
            "/api/v1/imports", params={"name": "broken.xml"}, content=text.encode()
        )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_report"
    assert error["message"].startswith("broken.xml:4: ")
    assert scalar(server.store, "SELECT COUNT(*) FROM runs") == 0


def test_a_partial_import_keeps_what_came_before_the_problem(sqlite_server: LiveServer) -> None:
    lines = (HISTORY / "pytest-reportlog.jsonl").read_text().splitlines(keepends=True)
    text = "".join(lines[:-1]) + "{not json\n"
    with sqlite_server.client("run") as client:
        response = client.post(
            "/api/v1/imports",
            params={"format": "reportlog", "partial": True, "name": "cut.jsonl"},
            content=text.encode(),
        )
        assert response.status_code == 201, response.text
        run = client.get(response.json()["url"]).json()
    assert response.json()["partial"].startswith(f"partial import: cut.jsonl:{len(lines)}: ")
    assert run["status"] == "interrupted"


@pytest.fixture
def small_uploads(tmp_path: Path) -> Iterator[LiveServer]:
    """A server that takes uploads of at most 4 KiB."""
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "project", url, max_upload=4 * KiB) as live,
    ):
        yield live


def chunks(data: bytes, size: int = 1024) -> Iterator[bytes]:
    """`data` in pieces, sent without a Content-Length (chunked)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("chunked", [False, True], ids=["declared-length", "chunked"])
def test_an_upload_over_the_limit_is_a_413(small_uploads: LiveServer, chunked: bool) -> None:
    cases = "".join(f'<testcase classname="t" name="case {i}"/>\n' for i in range(200))
    data = f"<testsuite>\n{cases}</testsuite>\n".encode()
    assert len(data) > 4 * KiB
    with small_uploads.client("run") as client:
        response = client.post("/api/v1/imports", content=chunks(data) if chunked else data)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert scalar(small_uploads.store, "SELECT COUNT(*) FROM runs") == 0


def test_an_upload_is_written_to_disk_as_it_arrives(sqlite_server: LiveServer) -> None:
    cases = "".join(f'<testcase classname="t" name="case {i}"/>\n' for i in range(20_000))
    data = f"<testsuite>\n{cases}</testsuite>\n".encode()
    half = len(data) // 2

    def body() -> Iterator[bytes]:
        yield from chunks(data[:half], 64 * KiB)
        # The first half is on the server's disk before the second is sent: nothing waits
        # in memory for the whole body.
        deadline = time.monotonic() + 30
        while not any(
            p.stat().st_size >= half for p in Path(tempfile.gettempdir()).glob("assay-upload-*/*")
        ):
            assert time.monotonic() < deadline, "the upload never reached the disk"
            time.sleep(0.01)
        yield from chunks(data[half:], 64 * KiB)

    with sqlite_server.client("run") as client:
        response = client.post("/api/v1/imports", content=body())
    assert response.status_code == 201, response.text
    assert response.json()["cases"] == 20_000


@pytest.mark.parametrize(
    ("scopes", "status"), [((), 401), (("read",), 403)], ids=["no-token", "read-only"]
)
def test_imports_need_the_run_scope(
    sqlite_server: LiveServer, scopes: tuple[str, ...], status: int
) -> None:
    with sqlite_server.client(*scopes) as client:
        response = client.post(
            "/api/v1/imports", content=(HISTORY / "pytest-junit.xml").read_bytes()
        )
    assert response.status_code == status
    assert scalar(sqlite_server.store, "SELECT COUNT(*) FROM runs") == 0


def test_an_unknown_format_is_refused(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("run") as client:
        response = client.post("/api/v1/imports", params={"format": "tap"}, content=b"ok 1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
