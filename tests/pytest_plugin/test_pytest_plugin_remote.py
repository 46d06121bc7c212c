"""`pytest --assay-report-to URL`: real sessions streamed to a real server, which may be away.

The server (`fixtures.server`) runs in this process on each backend; the
pytest sessions are child processes that send their results through the
ingest API, as `assay run --report-to` does. What the server stored is read
straight from its database and compared with what the same session records
locally.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_sessions import (
    SAMPLE,
    PytestProject,
    assay_lines,
    many,
    stored_results,
    the_run,
)

from fixtures.databases import opened_store, scalar
from fixtures.server import LiveServer, free_port

MANY = 1000


@pytest.fixture
def project(tmp_path: Path) -> PytestProject:
    """The project whose sessions are sent (apart from the server's own directory)."""
    project = PytestProject(tmp_path / "client")
    project.write(*many(MANY))
    project.write("test_sample.py", SAMPLE)
    return project


def test_a_session_reaches_the_server_in_batches_as_it_records_locally(
    server: LiveServer, project: PytestProject
) -> None:
    local = project.pytest("--assay", "--reruns", "1")
    (project.root / "counter").unlink()

    done = project.pytest(
        "--assay-url", server.url, "--assay-token", server.token("run"), "--reruns", "1"
    )

    assert (local.code, done.code) == (1, 1), done
    run = the_run(server.store)
    assert assay_lines(done) == [
        f"assay: sent run {run['id']} ({MANY + 10} results) to {server.url}"
    ]
    assert (run["status"], run["trigger"], run["total"], run["flaky"]) == (
        "failed", "remote", MANY + 10, 1,
    )  # fmt: skip
    options = json.loads(run["options"])
    assert options["source"].startswith("pytest -p no:cacheprovider --assay-url")
    assert server.token("run") not in run["options"]
    assert run["finished_at"] >= run["started_at"]
    batches = scalar(
        server.store,
        "SELECT COUNT(*) FROM ingest_batches WHERE run_id = :run AND seq > 0",
        run=run["id"],
    )
    assert batches <= MANY // 50
    url = f"sqlite:///{project.default_db}"
    with opened_store(url, project.root / ".assay", "client") as store:
        recorded = the_run(store)
        assert stored_results(server.store, run["id"]) == stored_results(store, recorded["id"])


def test_the_environment_names_the_server_and_token(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    project = PytestProject(tmp_path / "client")
    project.write("test_ok.py", "def test_ok():\n    pass\n")

    done = project.pytest(
        "--assay",
        env={"ASSAY_REPORT_TO": sqlite_server.url, "ASSAY_TOKEN": sqlite_server.token("run")},
    )

    assert done.code == 0, done
    run = the_run(sqlite_server.store)
    assert assay_lines(done) == [f"assay: sent run {run['id']} (1 result) to {sqlite_server.url}"]
    assert (run["status"], run["total"]) == ("passed", 1)
    assert not (project.root / ".assay").exists(), "sent instead of recorded locally"


@pytest.mark.parametrize(
    ("token", "answer"),
    [
        ("not-a-token", "the server answered 401"),
        ("read", "the server answered 403"),
    ],
    ids=["unknown", "without-run-scope"],
)
def test_a_refused_token_warns_and_leaves_the_exit_status(
    sqlite_server: LiveServer, project: PytestProject, token: str, answer: str
) -> None:
    secret = sqlite_server.token(token) if token == "read" else token

    done = project.pytest("--assay-report-to", sqlite_server.url, "--assay-token", secret)

    assert done.code == 1, done
    (line,) = assay_lines(done)
    assert line.startswith(f"assay: warning: the run was not reported to {sqlite_server.url}: ")
    assert answer in line
    assert f"{MANY + 5} passed" in done.stdout


def test_a_server_that_is_down_warns_and_leaves_the_exit_status(tmp_path: Path) -> None:
    project = PytestProject(tmp_path / "client")
    project.write("test_ok.py", "def test_ok():\n    pass\n")
    nowhere = f"http://127.0.0.1:{free_port()}"

    done = project.pytest(
        "--assay-report-to", nowhere, "--assay-token", "t", "--assay-report-patience", "0.2s"
    )

    assert done.code == 0, done
    (line,) = assay_lines(done)
    assert line.startswith(f"assay: warning: the run was not reported to {nowhere}: no answer")
    assert "cannot reach the server" in line


def test_a_url_that_is_no_server_is_a_usage_error(tmp_path: Path) -> None:
    project = PytestProject(tmp_path / "client")
    project.write("test_ok.py", "def test_ok():\n    pass\n")

    done = project.pytest("--assay-report-to", "localhost:8000")

    assert done.code == 4, done
    assert "--assay-url: expected an http:// or https:// URL, not 'localhost:8000'" in done.stderr
