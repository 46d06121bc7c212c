"""`pytest --assay`: real pytest sessions recorded into a real store, on every backend.

Each test runs pytest as a child process in a scratch project (see
`pytest_sessions.py`) and reads what it recorded from the database. What a
session records is checked against what pytest itself reports: its node
ids, its exit status, and its report log imported by `assay import`.
"""

from __future__ import annotations

import contextlib
import shlex
import sqlite3
from pathlib import Path

import pytest
from pytest_sessions import (
    SAMPLE,
    PytestProject,
    RecordedProject,
    assay_lines,
    many,
    stored_results,
    the_run,
    this_host,
)

from assay.api import import_results
from assay.config import Settings
from assay.store.connections import redact
from fixtures.databases import opened_store, rows

BROKEN = "import pytest\n\ndef test_broken(:\n    pass\n"
# node id -> (outcome, attempts, flaky, 1-based line of its def, position in pytest's order)
EXPECTED = {
    "test_broken.py": ("error", 1, False, None, 0),
    "test_sample.py::test_passes": ("passed", 1, False, 9, 1),
    "test_sample.py::test_fails": ("failed", 2, False, 13, 2),
    "test_sample.py::test_skipped": ("skipped", 1, False, 17, 3),
    "test_sample.py::test_xfail": ("skipped", 1, False, 22, 4),
    "test_sample.py::test_setup_error": ("error", 2, False, 32, 5),
    "test_sample.py::test_teardown_error": ("error", 2, False, 42, 6),
    "test_sample.py::test_flaky": ("passed", 2, True, 46, 7),
    "test_sample.py::test_param[one]": ("passed", 1, False, 52, 8),
    "test_sample.py::test_param[two]": ("passed", 1, False, 52, 9),
    "test_sample.py::TestGroup::test_method": ("passed", 1, False, 58, 10),
}
SESSION = ("--reruns", "1", "--continue-on-collection-errors")


def test_every_outcome_is_recorded_under_pytests_node_id(recorded: RecordedProject) -> None:
    recorded.write("test_sample.py", SAMPLE)
    recorded.write("test_broken.py", BROKEN)

    done = recorded.pytest(*SESSION, "-p", "rerunfailures")

    assert done.code == 1, done
    with recorded.store() as store:
        run = the_run(store)
        results = stored_results(store, run["id"])
    assert {
        key: (r["outcome"], r["attempts"], r["flaky"], r["line"], r["position"])
        for key, r in results.items()
    } == EXPECTED
    assert assay_lines(done) == [
        f"assay: recorded run {run['id']} (11 results) into {redact(recorded.url)}"
    ]
    assert run["status"] == "failed"
    assert run["trigger"] == "pytest"
    command = ["-p", "no:cacheprovider", *map(redact, recorded.options), *SESSION]
    assert run["source"] == shlex.join(["pytest", *command, "-p", "rerunfailures"])
    assert (run["host"], run["pid"] is not None) == (this_host(), True)
    assert (run["total"], run["passed"], run["failed"], run["errors"], run["skipped"]) == (
        11, 5, 1, 3, 2,
    )  # fmt: skip
    assert run["flaky"] == 1
    assert run["reason"] is None
    assert run["finished_at"] >= run["started_at"]
    flaky = results["test_sample.py::test_flaky"]["tries"]
    assert [(number, outcome) for number, outcome, *_ in flaky] == [(1, "failed"), (2, "passed")]
    assert "fails on its first run only" in flaky[0][2]
    assert results["test_sample.py::test_skipped"]["reason"] == "not today"
    assert results["test_sample.py::test_xfail"]["reason"] == "known bug"
    assert results["test_sample.py::test_passes"]["tries"][0][4] == "some output\n"
    assert results["test_sample.py::TestGroup::test_method"]["name"] == "TestGroup::test_method"


def test_a_session_records_as_its_report_log_imports(recorded: RecordedProject) -> None:
    recorded.write("test_sample.py", SAMPLE)
    recorded.write("test_broken.py", BROKEN)
    log = recorded.project.root / "report.jsonl"

    done = recorded.pytest(*SESSION, f"--report-log={log}")
    assert done.code == 1, done
    settings = Settings(root=recorded.project.root, database_url=recorded.url, project="project")
    imported = import_results([log], format="reportlog", settings=settings)

    with recorded.store() as store:
        (recorded_run,) = [
            r for (r,) in rows(store, "SELECT id FROM runs WHERE trigger = 'pytest'")
        ]
        live = stored_results(store, recorded_run)
        from_log = stored_results(store, imported.run_id)
    # Collection errors carry no time, and each side stamps them with its own.
    assert live == from_log


def test_the_exit_status_is_pytests_own(recorded: RecordedProject) -> None:
    recorded.write("test_sample.py", SAMPLE)

    plain = recorded.pytest(record=False)
    (recorded.project.root / "counter").unlink()
    recording = recorded.pytest()

    assert (plain.code, recording.code) == (1, 1), recording
    passing = recorded.project.root / "test_sample.py"
    passing.write_text("def test_ok():\n    pass\n")
    assert recorded.pytest().code == 0


def test_xdist_workers_results_are_recorded_once_by_the_controller(
    recorded: RecordedProject,
) -> None:
    recorded.write(*many(60))
    recorded.write("test_sample.py", SAMPLE)

    done = recorded.pytest("-n", "2", "-p", "xdist", "--reruns", "1")

    assert done.code == 1, done
    with recorded.store() as store:
        run = the_run(store)
        results = stored_results(store, run["id"])
    assert len(results) == 60 + 10
    assert sorted(r["position"] for r in results.values()) == list(range(70))
    assert "-n 2" in run["source"]
    assert results["test_sample.py::test_flaky"]["flaky"] is True
    assert results["test_sample.py::test_fails"]["attempts"] == 2
    assert (run["total"], run["passed"], run["failed"]) == (70, 65, 1)
    assert assay_lines(done)[0].startswith(f"assay: recorded run {run['id']} (70 results) into ")


def test_a_session_cut_short_by_x_is_interrupted(recorded: RecordedProject) -> None:
    recorded.write("test_sample.py", SAMPLE)

    done = recorded.pytest("-x")

    assert done.code == 1, done
    with recorded.store() as store:
        run = the_run(store)
        results = stored_results(store, run["id"])
    assert run["status"] == "interrupted"
    assert run["reason"] == "pytest stopped early: stopping after 1 failures"
    assert list(results) == ["test_sample.py::test_passes", "test_sample.py::test_fails"]


def test_ctrl_c_ends_the_run_as_interrupted(recorded: RecordedProject) -> None:
    recorded.write(
        "test_stop.py",
        """\
        def test_before():
            pass


        def test_presses_ctrl_c():
            raise KeyboardInterrupt


        def test_never_runs():
            pass
        """,
    )

    done = recorded.pytest()

    assert done.code == 2, done
    with recorded.store() as store:
        run = the_run(store)
        results = stored_results(store, run["id"])
    assert run["status"] == "interrupted"
    assert run["reason"] == "pytest was interrupted (exit status 2)"
    assert results["test_stop.py::test_before"]["outcome"] == "passed"
    assert "test_stop.py::test_never_runs" not in results


KILLED = """\
import contextlib
import os
import signal
import sqlite3
import time

DB = {db!r}


def wait_for(query, expected):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with contextlib.closing(sqlite3.connect(DB)) as db:
                if db.execute(query).fetchone()[0] >= expected:
                    return
        except sqlite3.OperationalError:  # no database or table yet
            pass
        time.sleep(0.02)
    raise AssertionError("the recording never got there")


{tests}


def test_killed():
    # The first results are committed within a second of finishing: wait for them.
    wait_for("SELECT COUNT(*) FROM results", 3)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_session_leaves_committed_batches_and_an_interrupted_run(
    tmp_path: Path,
) -> None:
    project = PytestProject(tmp_path / "project")
    tests = "\n\n".join(f"def test_{i}():\n    pass" for i in range(3))
    project.write("test_killed.py", KILLED.format(db=str(project.default_db), tests=tests))

    done = project.pytest("--assay")

    assert done.code == -9, done
    url = f"sqlite:///{project.default_db}"
    with contextlib.closing(sqlite3.connect(project.default_db)) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("running",)]
    with opened_store(url, project.root / ".assay", "project") as store:
        store.connect().close()  # what any later `assay` command does first
        run = the_run(store)
        results = stored_results(store, run["id"])
    assert run["status"] == "interrupted"
    assert run["reason"] == "the recording process ended without finishing the run"
    assert sorted(results) == [f"test_killed.py::test_{i}" for i in range(3)]


def test_without_its_options_the_plugin_does_nothing(tmp_path: Path) -> None:
    project = PytestProject(tmp_path / "project")
    project.write("test_ok.py", "def test_ok():\n    pass\n")

    plain = project.pytest()
    listed = project.pytest("--assay", "--collect-only")

    assert (plain.code, listed.code) == (0, 0), listed
    assert assay_lines(plain) == assay_lines(listed) == []
    assert not (project.root / ".assay").exists()
    helped = project.pytest("--help")
    assert "--assay-report-to=URL" in helped.stdout


@pytest.mark.parametrize(
    ("database", "problem"),
    [
        ("garbage", "file is not a database"),
        ("directory", "unable to open database file"),
    ],
    ids=["not-a-database", "a-directory"],
)
def test_an_unusable_database_warns_and_leaves_the_exit_status(
    tmp_path: Path, database: str, problem: str
) -> None:
    project = PytestProject(tmp_path / "project")
    project.write("test_ok.py", "def test_ok():\n    pass\n\n\ndef test_bad():\n    assert 0\n")
    target = project.root / "broken.db"
    if database == "garbage":
        target.write_bytes(b"this is no SQLite file\n" * 100)
    else:
        target.mkdir()

    done = project.pytest("--assay-db", f"sqlite:///{target}")

    assert done.code == 1, done
    (line,) = assay_lines(done)
    assert line.startswith(f"assay: warning: the session was not recorded into sqlite:///{target}")
    assert problem in line
    assert "1 failed, 1 passed" in done.stdout


def test_an_invalid_configuration_warns_and_leaves_the_exit_status(tmp_path: Path) -> None:
    project = PytestProject(tmp_path / "project")
    project.write("assay.toml", "jobs = 0\n")
    project.write("test_ok.py", "def test_ok():\n    pass\n")

    done = project.pytest("--assay")

    assert done.code == 0, done
    assert assay_lines(done) == [
        f"assay: warning: the session was not recorded: {project.root / 'assay.toml'}: "
        "jobs: must be at least 1"
    ]


def test_the_projects_settings_choose_the_database(tmp_path: Path) -> None:
    project = PytestProject(tmp_path / "project")
    project.write("assay.toml", 'data_dir = "state"\nproject = "named"\n')
    project.write("tests/test_ok.py", "def test_ok():\n    pass\n")

    done = project.pytest("--assay", "tests")

    assert done.code == 0, done
    database = project.root / "state" / "assay.db"
    assert assay_lines(done) == [f"assay: recorded run 1 (1 result) into sqlite:///{database}"]
    with opened_store(f"sqlite:///{database}", project.root / "state", "named") as store:
        (name,) = rows(store, "SELECT name FROM projects")
        assert name == ("named",)
        assert list(stored_results(store, 1)) == ["tests/test_ok.py::test_ok"]


def test_long_output_is_kept_whole_as_an_artifact(recorded: RecordedProject) -> None:
    recorded.write(
        "test_loud.py",
        """\
        def test_loud():
            print("a line of output\\n" * 2000)
        """,
    )

    assert recorded.pytest().code == 0
    with recorded.store() as store:
        ((size, digest),) = rows(store, "SELECT stdout_size, stdout_artifact FROM attempts")
    assert size == len("a line of output\n" * 2000) + 1
    stored = recorded.project.root / ".assay" / "artifacts" / digest[:2] / digest
    assert stored.stat().st_size == size


def test_without_a_terminal_the_line_goes_to_stderr(tmp_path: Path) -> None:
    project = PytestProject(tmp_path / "project")
    project.write("test_ok.py", "def test_ok():\n    pass\n")

    done = project.pytest("--assay", "-p", "no:terminal")

    assert done.code == 0, done
    assert done.stdout == ""
    assert done.stderr == f"assay: recorded run 1 (1 result) into sqlite:///{project.default_db}\n"
