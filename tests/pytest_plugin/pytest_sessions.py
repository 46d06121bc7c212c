"""Real pytest sessions with `--assay`: a scratch project, and pytest run in it as a child.

Each session is `python -m pytest` in a fresh directory, so the plugin is
loaded through its entry point as it is for users, pytest-xdist starts real
workers, and a session can be interrupted or killed without touching the
test that started it. Every project says `filterwarnings = error`, as strict
projects do: a warning from the plugin would fail their sessions.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.store import Store
from fixtures.databases import opened_store, rows
from fixtures.projects import CLI_TIMEOUT, CliResult, Project, clean_environ

PYTEST = (sys.executable, "-m", "pytest", "-p", "no:cacheprovider")
RUN_COLUMNS = (
    "id", "status", "trigger", "source", "host", "pid", "total", "passed", "failed", "errors",
    "skipped", "flaky", "reason", "started_at", "finished_at", "duration", "options",
)  # fmt: skip
RESULT_COLUMNS = (
    "key", "name", "file", "line", "position", "outcome", "attempts", "flaky", "reason", "message",
)  # fmt: skip
PYTEST_INI = """\
[pytest]
filterwarnings = error
"""

# Every kind of result: passed, failed (on its rerun too), skipped, xfail, errors in setup
# and teardown, flaky through a counter file, parametrized, a method; output on both streams.
SAMPLE = """\
import pathlib
import sys

import pytest

COUNTER = pathlib.Path(__file__).with_name("counter")


def test_passes():
    print("some output")


def test_fails():
    assert 1 == 2, "one is not two"


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False


@pytest.fixture
def broken():
    raise RuntimeError("setup broke")


def test_setup_error(broken):
    pass


@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown broke")


def test_teardown_error(bad_teardown):
    pass


def test_flaky():
    runs = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(runs + 1))
    assert runs >= 1, "fails on its first run only"


@pytest.mark.parametrize("n", [1, 2], ids=["one", "two"])
def test_param(n):
    assert n


class TestGroup:
    def test_method(self):
        sys.stderr.write("to stderr\\n")
"""


def many(count: int, name: str = "test_many.py") -> tuple[str, str]:
    """A test file of `count` passing tests: its name and text."""
    return name, "".join(f"def test_{i}():\n    pass\n\n\n" for i in range(count))


class PytestProject(Project):
    """A directory of pytest tests, with its own `pytest.ini` and `assay.toml`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.write("pytest.ini", PYTEST_INI)

    @property
    def default_db(self) -> Path:
        """Where `pytest --assay` records without a database setting."""
        return self.root / ".assay" / "assay.db"

    def pytest(self, *args: str, env: Mapping[str, str] | None = None) -> CliResult:
        """Run `pytest ARGS` in the project, with an environment free of the parent's pytest."""
        return run_pytest(args, self.root, env)


@dataclass
class RecordedProject:
    """A pytest project and the database its `--assay` sessions record into."""

    project: PytestProject
    url: str
    options: tuple[str, ...]
    """The options that record into `url`: the default location needs only `--assay`."""

    def pytest(self, *args: str, record: bool = True) -> CliResult:
        """Run pytest in the project, recording (unless told not to)."""
        return self.project.pytest(*(self.options if record else ()), *args)

    def write(self, name: str, text: str) -> Path:
        """Write a file (dedented) under the project."""
        return self.project.write(name, text)

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """A store on the project's database, as a later `assay` command opens it."""
        with opened_store(self.url, self.project.root / ".assay", "project") as store:
            yield store


def run_pytest(args: tuple[str, ...], cwd: Path, env: Mapping[str, str] | None = None) -> CliResult:
    """`python -m pytest ARGS` in `cwd`; no `ASSAY_*` or `PYTEST_*` variable leaks in."""
    environ = {k: v for k, v in clean_environ().items() if not k.startswith("PYTEST_")}
    environ.update(env or {})
    done = subprocess.run(
        [*PYTEST, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=CLI_TIMEOUT,
        check=False,
    )
    return CliResult(("pytest", *args), done.returncode, done.stdout, done.stderr)


def assay_lines(result: CliResult) -> list[str]:
    """The lines the plugin printed."""
    return [line for line in result.output.splitlines() if line.startswith("assay:")]


def the_run(store: Store) -> dict[str, Any]:
    """The store's one run, as a dict of its columns."""
    (found,) = rows(store, f"SELECT {', '.join(RUN_COLUMNS)} FROM runs")
    return dict(zip(RUN_COLUMNS, found, strict=True))


def stored_results(store: Store, run_id: int) -> dict[str, dict[str, Any]]:
    """A run's results by test id, each with its attempts (outcome, failures, notes, output)."""
    results = {
        row[0]: dict(zip(RESULT_COLUMNS, row, strict=True))
        for row in rows(
            store,
            "SELECT t.key, t.name, t.file, t.line, r.position, r.outcome, r.attempts, r.flaky, "
            "r.reason, r.message FROM results r JOIN tests t ON t.id = r.test_id "
            "WHERE r.run_id = :run ORDER BY r.position",
            run=run_id,
        )
    }
    for result in results.values():
        result["flaky"] = bool(result["flaky"])
        result["tries"] = []
    for key, number, outcome, failures, notes, stdout in rows(
        store,
        "SELECT t.key, a.number, a.outcome, a.failures, a.notes, a.stdout_tail "
        "FROM attempts a JOIN results r ON r.run_id = a.run_id AND r.position = a.position "
        "JOIN tests t ON t.id = r.test_id WHERE a.run_id = :run ORDER BY a.position, a.number",
        run=run_id,
    ):
        results[key]["tries"].append((number, outcome, failures, notes, stdout))
    return results


def this_host() -> str:
    """The host name a run recorded on this machine carries."""
    return os.uname().nodename
