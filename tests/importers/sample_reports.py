"""What the importer tests share: the sample pytest project, what its reports must hold, helpers.

pytest runs (see `conftest.py`) on a generated project that has every kind of
result: passed, failed on every rerun, errors in setup and teardown, skip,
xfail, xpass, a flaky test that fails only its first run (through a counter
file), parametrized and class-based tests, captured output, and a module
that cannot be collected. pytest-rerunfailures reruns failures twice.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from assay.importers import ImportStats, read_junit, read_reportlog
from assay.model.records import ResultRecord
from fixtures.projects import clean_environ

# Only a safety net against a hung child; no test relies on how long a run takes.
TIMEOUT = 120.0
FIXTURES = Path(__file__).parents[1] / "fixtures" / "junit"

SAMPLE = """\
import pathlib
import sys

import pytest

COUNTER = pathlib.Path(__file__).with_name("counter")


def test_pass():
    print("hello out")
    sys.stderr.write("hello err\\n")


def test_fail():
    assert 1 == 2, "one is not two"


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


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="fixed already?")
def test_xpass():
    pass


def test_flaky():
    runs = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(runs + 1))
    assert runs >= 1, "fails on its first run only"


@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert x


class TestGroup:
    def test_method(self):
        pass
"""

# name in the sample -> (outcome, flaky, attempts)
EXPECTED = {
    "test_pass": ("passed", False, 1),
    "test_fail": ("failed", False, 3),
    "test_setup_error": ("error", False, 3),
    "test_teardown_error": ("error", False, 3),
    "test_skipped": ("skipped", False, 1),
    "test_xfail": ("skipped", False, 1),
    "test_xpass": ("passed", False, 1),
    "test_flaky": ("passed", True, 2),
    "test_param[1]": ("passed", False, 1),
    "test_param[2]": ("passed", False, 1),
    "test_method": ("passed", False, 1),
    "test_broken_collect": ("error", False, 1),
}
BY_OUTCOME = {"passed": 6, "failed": 1, "error": 3, "skipped": 2}


@dataclass(frozen=True, slots=True)
class PytestReports:
    """The reports of the sample project's runs."""

    xunit1: Path
    xunit2: Path
    reportlog: Path


def run_pytest(root: Path, *args: str) -> None:
    """Run pytest with pytest-rerunfailures on a fresh copy of the sample project in `root`."""
    root.mkdir()
    (root / "test_sample.py").write_text(SAMPLE)
    (root / "test_broken_collect.py").write_text("import no_such_module_for_assay_tests\n")
    env = clean_environ()
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        env.pop(name, None)
    command = [sys.executable, "-m", "pytest", "-p", "rerunfailures", "--reruns", "2"]
    command += ["-p", "no:cacheprovider", "--continue-on-collection-errors", *args]
    done = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    # pytest exits 1 when tests failed, as some do on purpose; anything else is a broken run.
    assert done.returncode == 1, done.stdout + done.stderr


def junit(path: Path) -> tuple[list[ResultRecord], ImportStats]:
    """Every result of a JUnit file, and the stats of reading it."""
    stats = ImportStats()
    return list(read_junit(path, stats)), stats


def reportlog(path: Path) -> tuple[list[ResultRecord], ImportStats]:
    """Every result of a report log, and the stats of reading it."""
    stats = ImportStats()
    return list(read_reportlog(path, stats)), stats


def by_name(results: list[ResultRecord]) -> dict[str, ResultRecord]:
    """Results keyed by test name; fails if two share one."""
    named = {result.test.name: result for result in results}
    assert len(named) == len(results), [r.test.id for r in results]
    return named
