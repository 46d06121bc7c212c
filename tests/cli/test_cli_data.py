"""`assay import` and `assay db upgrade | prune`, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from assay.store.migrations import HEAD
from fixtures.databases import (
    PYTEST_BY_OUTCOME,
    ForeignResults,
    HistoryProject,
    cut_at_line,
    execute,
    history_project,
    line_of,
    pretty_xml,
    result,
    rows,
    write_run,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "junit"


def _runs(project: HistoryProject) -> list[dict[str, object]]:
    done = project.cli("runs", "--json")
    assert done.code == 0, done
    listed: list[dict[str, object]] = json.loads(done.stdout)
    return listed


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}" if "@" in rest else url


# -- assay import


@pytest.mark.parametrize("format", ["junit", "reportlog"], ids=["junit", "reportlog"])
def test_import_stores_a_real_report(
    fresh: HistoryProject, foreign_results: ForeignResults, format: str
) -> None:
    source = foreign_results.junit if format == "junit" else foreign_results.reportlog
    done = fresh.cli("import", format, str(source))
    assert done.code == 0, done
    assert done.stdout == "imported 8 results as run 1 (1 error, 1 failed, 5 passed, 1 skipped)\n"
    assert done.stderr == ""
    (run,) = _runs(fresh)
    assert (run["id"], run["trigger"], run["status"], run["source"]) == (
        1,
        "import",
        "failed",
        str(source),
    )
    assert (run["total"], run["passed"], run["failed"], run["errors"], run["skipped"]) == (
        8,
        5,
        1,
        1,
        1,
    )
    shown = json.loads(fresh.cli("show", "--json").stdout)
    assert len(shown["results"]) == 8
    assert rows(fresh.store(), "SELECT COUNT(*) FROM results") == [(8,)]


def test_import_json(fresh: HistoryProject, foreign_results: ForeignResults) -> None:
    done = fresh.cli("import", "junit", str(foreign_results.junit), "--json")
    assert done.code == 0, done
    assert json.loads(done.stdout) == {
        "run_id": 1,
        "cases": 8,
        "by_outcome": PYTEST_BY_OUTCOME,
        "unknown_elements": {},
        "partial": None,
    }


def test_import_reports_what_it_did_not_understand(fresh: HistoryProject) -> None:
    done = fresh.cli("import", "junit", str(FIXTURES / "unknown.xml"))
    assert done.code == 0, done
    assert done.stdout.startswith("imported 3 results as run 1 ")
    assert done.stderr.startswith("assay: warning: not understood and not imported: ")
    assert "<weird> x3" in done.stderr


def _truncated(results: ForeignResults, format: str, directory: Path) -> tuple[Path, int]:
    if format == "junit":
        source = pretty_xml(results.junit, directory / "pretty.xml")
        line = line_of(source, "<testcase", 4)
        return cut_at_line(source, directory / "cut.xml", line), line
    line = line_of(results.reportlog, '"when": "call"', 2)
    return cut_at_line(results.reportlog, directory / "cut.jsonl", line), line


@pytest.mark.parametrize("format", ["junit", "reportlog"], ids=["junit", "reportlog"])
def test_a_truncated_file_exits_4_and_stores_nothing(
    fresh: HistoryProject, foreign_results: ForeignResults, tmp_path: Path, format: str
) -> None:
    broken, line = _truncated(foreign_results, format, tmp_path)
    done = fresh.cli("import", format, str(broken))
    assert done.code == 4, done
    assert done.stdout == ""
    assert done.stderr.startswith(f"assay: error: {broken}:{line}: ")
    assert done.stderr.count("\n") == 1
    assert _runs(fresh) == []
    assert rows(fresh.store(), "SELECT COUNT(*) FROM runs") == [(0,)]


def test_a_truncated_file_in_a_child_process_has_no_traceback(
    fresh: HistoryProject, foreign_results: ForeignResults, tmp_path: Path
) -> None:
    broken, line = _truncated(foreign_results, "junit", tmp_path)
    done = fresh.assay("import", "junit", str(broken))
    assert (done.code, done.stdout) == (4, ""), done
    assert re.fullmatch(rf"assay: error: {re.escape(str(broken))}:{line}: [^\n]+\n", done.stderr)


@pytest.mark.parametrize("format", ["junit", "reportlog"], ids=["junit", "reportlog"])
def test_partial_keeps_what_came_before_the_break(
    fresh: HistoryProject, foreign_results: ForeignResults, tmp_path: Path, format: str
) -> None:
    broken, line = _truncated(foreign_results, format, tmp_path)
    done = fresh.cli("import", format, str(broken), "--partial")
    assert done.code == 0, done
    assert re.fullmatch(r"imported (\d+) results as run 1 \(\1 passed\)\n", done.stdout), done
    assert done.stderr.startswith(f"assay: warning: partial import: {broken}:{line}: ")
    (run,) = _runs(fresh)
    assert run["status"] == "interrupted"
    assert str(run["reason"]).startswith(f"partial import: {broken}:{line}: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("junit", "missing.xml"), "assay: error: missing.xml: no such file\n"),
        (("tap", "x.tap"), "argument format: invalid choice: 'tap'"),
    ],
    ids=["missing-file", "unknown-format"],
)
def test_bad_imports_exit_4(fresh: HistoryProject, args: tuple[str, ...], message: str) -> None:
    done = fresh.cli("import", *args)
    assert done.code == 4, done
    assert message in done.stderr
    assert _runs(fresh) == []


# -- assay db upgrade


def test_db_upgrade_on_an_empty_and_a_current_database(fresh: HistoryProject) -> None:
    url = _redacted(fresh.url)
    done = fresh.cli("db", "upgrade")
    assert (done.code, done.stdout, done.stderr) == (
        0,
        f"{url}: upgraded from an empty database to {HEAD}\n",
        "",
    )
    done = fresh.cli("db", "upgrade")
    assert (done.code, done.stdout) == (0, f"{url}: already at revision {HEAD}\n")
    assert rows(fresh.store(), "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_db_upgrade_takes_a_url(fresh: HistoryProject, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other' / 'assay.db'}"
    done = fresh.cli("db", "upgrade", "--db", other)
    assert (done.code, done.stdout) == (0, f"{other}: upgraded from an empty database to {HEAD}\n")
    assert (tmp_path / "other" / "assay.db").is_file()


NEWER = (
    "assay: error: the database is at schema revision 9999, newer than this Assay knows "
    f"({HEAD}); upgrade Assay\n"
)


@pytest.mark.parametrize(
    "args",
    [("db", "upgrade"), ("runs",), ("show", "last"), ("flaky",), ("import", "junit", "JUNIT")],
    ids=["db-upgrade", "runs", "show", "flaky", "import"],
)
def test_a_newer_schema_is_a_clear_error(
    fresh: HistoryProject, foreign_results: ForeignResults, args: tuple[str, ...]
) -> None:
    assert fresh.cli("db", "upgrade").code == 0
    execute(fresh.store(), "UPDATE alembic_version SET version_num = '9999'")
    args = tuple(str(foreign_results.junit) if a == "JUNIT" else a for a in args)
    done = fresh.cli(*args)
    assert (done.code, done.stdout, done.stderr) == (4, "", NEWER)


def test_a_newer_schema_in_a_child_process(fresh: HistoryProject) -> None:
    fresh.write("passing.assay.yaml", "tests:\n  - name: one\n    run: 'true'\n")
    assert fresh.cli("db", "upgrade").code == 0
    execute(fresh.store(), "UPDATE alembic_version SET version_num = '9999'")
    listed = fresh.assay("runs")
    assert (listed.code, listed.stdout, listed.stderr) == (4, "", NEWER)
    # A run still runs, and says why it was not recorded.
    ran = fresh.assay("run")
    assert ran.code == 0, ran
    assert ran.stderr == "assay: warning: the run was not recorded: " + NEWER.removeprefix(
        "assay: error: "
    )


def test_an_unusable_database_url_exits_4(fresh: HistoryProject) -> None:
    done = fresh.cli("runs", "--db", "sqlite:////proc/no/such/dir/assay.db")
    assert done.code == 4, done
    assert done.stderr.startswith(
        "assay: error: cannot use the database sqlite:////proc/no/such/dir/assay.db: "
    )
    done = fresh.cli("runs", "--db", "postgresql+psycopg://me:secret@127.0.0.1:1/x")
    assert done.code == 4, done
    assert done.stderr.startswith(
        "assay: error: cannot use the database postgresql+psycopg://***@127.0.0.1:1/x: "
    )
    assert "secret" not in done.stderr


# -- assay db prune

PRUNABLE = """\
tests:
  - name: only in the old run
    run: seq 1 3000
  - name: in both runs
    run: seq 1 4000
"""
OLD_LOG = "".join(f"{n}\n" for n in range(1, 3001))
SHARED_LOG = "".join(f"{n}\n" for n in range(1, 4001))


@pytest.fixture
def old_and_new(fresh: HistoryProject) -> HistoryProject:
    """Two real runs; the first, which alone printed OLD_LOG, started an hour ago."""
    fresh.write("prunable.assay.yaml", PRUNABLE)
    assert fresh.cli("run").code == 0
    assert fresh.cli("run", "-k", "both").code == 0
    execute(fresh.store(), "UPDATE runs SET started_at = started_at - 3600 WHERE id = 1")
    return fresh


def _artifact_files(project: HistoryProject) -> dict[str, str]:
    return {path.name: path.read_text() for path in project.artifacts.glob("??/*")}


def test_prune_dry_run_deletes_nothing(old_and_new: HistoryProject) -> None:
    files = _artifact_files(old_and_new)
    assert sorted(files.values()) == sorted([OLD_LOG, SHARED_LOG])
    done = old_and_new.cli("db", "prune", "--older-than", "10m", "--dry-run")
    assert done.code == 0, done
    assert done.stdout == (
        f"would delete 1 runs older than 10m00s (2 results) and 1 artifacts "
        f"({len(OLD_LOG)} bytes)\n"
    )
    assert [r["id"] for r in _runs(old_and_new)] == [2, 1]
    assert _artifact_files(old_and_new) == files


def test_prune_deletes_old_runs_and_the_artifacts_only_they_used(
    old_and_new: HistoryProject,
) -> None:
    done = old_and_new.cli("db", "prune", "--older-than", "10m")
    assert done.code == 0, done
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"deleted 1 runs older than 10m00s (2 results) and 1 artifacts ({len(OLD_LOG)} bytes)"
    )
    if old_and_new.url.startswith("sqlite"):
        assert re.fullmatch(r"database: \d+ -> \d+ bytes", lines[1])
    else:
        assert len(lines) == 1
    assert [r["id"] for r in _runs(old_and_new)] == [2]
    assert list(_artifact_files(old_and_new).values()) == [SHARED_LOG]
    store = old_and_new.store()
    assert rows(store, "SELECT DISTINCT run_id FROM results") == [(2,)]
    assert rows(store, "SELECT DISTINCT run_id FROM attempts") == [(2,)]
    assert rows(store, "SELECT COUNT(*) FROM artifacts") == [(1,)]
    # What is left still reads as before.
    shown = json.loads(old_and_new.cli("show", "--json", "2").stdout)
    assert shown["results"][0]["attempts"][0]["stdout_artifact"] in _artifact_files(old_and_new)


def test_prune_json(fresh: HistoryProject) -> None:
    fresh.write("prunable.assay.yaml", PRUNABLE)
    assert fresh.cli("run", "-k", "only").code == 0
    execute(fresh.store(), "UPDATE runs SET started_at = started_at - 2")
    done = fresh.cli("db", "prune", "--older-than", "1s", "--json")
    assert done.code == 0, done
    pruned = json.loads(done.stdout)
    assert set(pruned) == {
        "runs", "results", "artifacts", "bytes_freed", "database_bytes_before",
        "database_bytes_after", "deliveries",
    }  # fmt: skip
    assert (pruned["runs"], pruned["results"], pruned["artifacts"]) == (1, 1, 1)
    assert pruned["bytes_freed"] == len(OLD_LOG)
    assert _runs(fresh) == []
    assert _artifact_files(fresh) == {}


def test_prune_gives_the_space_back_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with history_project("sqlite", tmp_path) as project:
        project.bind(monkeypatch, capsys)
        store = project.store()
        write_run(store, [result(f"t::{i}", stdout=f"{i} " + "x" * 3000) for i in range(1500)])
        write_run(store, [result("t::kept")], started_at=time.time())
        database = project.root / ".assay" / "assay.db"
        store.close()
        done = project.cli("db", "prune", "--older-than", "1h")
        assert done.code == 0, done
        before, after = map(
            int, re.findall(r"^database: (\d+) -> (\d+) bytes$", done.stdout, re.M)[0]
        )
        assert after < before / 4
        assert database.stat().st_size == after
        assert [r["id"] for r in _runs(project)] == [2]


@pytest.mark.parametrize(
    ("age", "message"),
    [
        ("soon", "assay: error: --older-than: invalid duration 'soon'"),
        ("0s", "assay: error: --older-than: invalid duration '0s': must be greater than zero"),
    ],
    ids=["word", "zero"],
)
def test_prune_needs_a_valid_age(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    age: str,
    message: str,
) -> None:
    with history_project("sqlite", tmp_path) as project:
        project.bind(monkeypatch, capsys)
        done = project.cli("db", "prune", "--older-than", age)
    assert done.code == 4, done
    assert done.stderr.startswith(message)
