"""`pytest:` tests: one result per pytest test, run in one pytest process, retried selectively."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from assay.model import AttemptFinished, Outcome, TestStarted
from fixtures.projects import require_program

if TYPE_CHECKING:
    from conftest import Scratch

TESTS = """\
import os
import pytest


def test_passes():
    assert True


def test_fails():
    assert 1 + 1 == 3


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n


class TestGroup:
    def test_method(self):
        pass


def test_flaky(tmp_path_factory):
    marker = os.path.join(os.environ["COUNTER_DIR"], "ran-once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise AssertionError("first time fails")
"""


def project(scratch: Scratch) -> None:
    (scratch.root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (scratch.root / "tests").mkdir()
    (scratch.root / "tests" / "test_sample.py").write_text(TESTS)


class TestPytestKind:
    def test_each_pytest_test_is_a_result(self, scratch: Scratch) -> None:
        project(scratch)
        tests = scratch.load(
            textwrap.dedent(
                """\
                tests:
                  - name: unit
                    pytest: tests -q
                    env: {COUNTER_DIR: "${{ suite.dir }}"}
                    retries: 1
                """
            )
        )
        result = scratch.run(tests)
        by_id = {r.test.id: r for r in result.results}
        assert sorted(by_id) == sorted(
            f"tests/test_sample.py::{name}"
            for name in (
                "test_passes",
                "test_fails",
                "test_skipped",
                "test_param[1]",
                "test_param[2]",
                "TestGroup::test_method",
                "test_flaky",
            )
        )
        assert by_id["tests/test_sample.py::test_passes"].outcome is Outcome.PASSED
        failed = by_id["tests/test_sample.py::test_fails"]
        assert failed.outcome is Outcome.FAILED
        assert len(failed.attempts) == 2  # retried once, alone
        assert failed.failures[0].message == "assert (1 + 1) == 3"
        skipped = by_id["tests/test_sample.py::test_skipped"]
        assert skipped.outcome is Outcome.SKIPPED
        assert skipped.reason is not None and "not today" in skipped.reason
        flaky = by_id["tests/test_sample.py::test_flaky"]
        assert flaky.outcome is Outcome.PASSED
        assert flaky.flaky
        assert all(r.test.kind == "pytest" for r in result.results)
        # One TestStarted per pytest test; the first attempts all ran in one process.
        started = [e for e in scratch.events if isinstance(e, TestStarted)]
        assert len(started) == 7
        second = [
            e for e in scratch.events if isinstance(e, AttemptFinished) and e.attempt.number == 2
        ]
        assert sorted(e.test.id for e in second) == [
            "tests/test_sample.py::test_fails",
            "tests/test_sample.py::test_flaky",
        ]

    def test_collection_error_is_one_error(self, scratch: Scratch) -> None:
        (scratch.root / "tests").mkdir()
        (scratch.root / "tests" / "test_broken.py").write_text("import nonexistent_module_xyz\n")
        tests = scratch.load("tests:\n  - name: unit\n    pytest: tests\n")
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.ERROR
        [failure] = result.failures
        assert failure.expectation == "collect"
        assert "nonexistent_module_xyz" in (failure.actual or "")

    def test_nothing_selected_is_an_error(self, scratch: Scratch) -> None:
        project(scratch)
        tests = scratch.load("tests:\n  - name: unit\n    pytest: tests -k no_such_test\n")
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.ERROR
        assert result.failures[0].message == "pytest collected no tests"

    def test_a_test_can_need_the_pytest_test(self, scratch: Scratch) -> None:
        project(scratch)
        (scratch.root / "tests" / "test_sample.py").write_text("def test_ok():\n    pass\n")
        tests = scratch.load(
            "tests:\n  - name: unit\n    pytest: tests\n"
            "  - name: after\n    needs: unit\n    run: 'true'\n"
        )
        result = scratch.run(tests)
        assert [r.outcome for r in result.results] == [Outcome.PASSED, Outcome.PASSED]
        assert [r.test.name for r in result.results] == ["test_ok", "after"]

    def test_runs_inside_bwrap(self, scratch: Scratch) -> None:
        require_program("bwrap")
        project(scratch)
        (scratch.root / "tests" / "test_sample.py").write_text(
            "import os\n\n"
            "def test_root_is_read_only():\n"
            "    assert not os.access('/usr', os.W_OK)\n"
        )
        tests = scratch.load("tests:\n  - name: unit\n    pytest: tests\n    sandbox: bwrap\n")
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.PASSED, result.failures
        assert result.test.id == "tests/test_sample.py::test_root_is_read_only"
