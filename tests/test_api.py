"""The Python API: `assay.run` and `assay.collect` on real suites."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

import assay
from assay.errors import ConfigError, ReportWriteError, UsageError
from assay.model import (
    AttemptFinished,
    AttemptStarted,
    Event,
    RunFinished,
    RunStarted,
    TestFinished,
    TestStarted,
)
from fixtures.projects import isolate

SLOW_FIRST = """\
suite: first
tests:
  - name: slow
    run: [sleep, "0.3"]
    tags: [slow]
  - name: quick
    run: echo quick
    expect: {stdout: "quick\\n"}
    tags: [smoke]
  - name: after quick
    needs: [quick]
    run: "true"
"""

SECOND = """\
suite: second
tests:
  - name: also quick
    run: echo also
    tags: [smoke]
  - name: fails
    run: "false"
"""


class Recorder:
    """A handler that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
def suites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two suite files in a fresh working directory."""
    (tmp_path / "assay.toml").write_text("")
    (tmp_path / "a.assay.yaml").write_text(SLOW_FIRST)
    (tmp_path / "b.assay.yaml").write_text(SECOND)
    isolate(monkeypatch, tmp_path)
    return tmp_path


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def test_run_returns_results_in_file_order(suites: Path) -> None:
    result = assay.run([suites / "b.assay.yaml", suites / "a.assay.yaml"], jobs=2)
    assert isinstance(result, assay.RunResult)
    # `slow` finishes last, but results keep the order of the files and the tests in them.
    assert [r.test.id for r in result.results] == [
        "b.assay.yaml::also quick",
        "b.assay.yaml::fails",
        "a.assay.yaml::slow",
        "a.assay.yaml::quick",
        "a.assay.yaml::after quick",
    ]
    assert all(isinstance(r, assay.Result) for r in result.results)
    assert all(isinstance(a, assay.Attempt) for r in result.results for a in r.attempts)
    assert [r.outcome for r in result.results] == [
        assay.Outcome.PASSED,
        assay.Outcome.FAILED,
        assay.Outcome.PASSED,
        assay.Outcome.PASSED,
        assay.Outcome.PASSED,
    ]
    assert result.ok is False
    assert result.interrupted is None
    assert result.count(assay.Outcome.PASSED) == 4
    assert result.summary().startswith("4 passed, 1 failed, 0 skipped in ")
    [failure] = result.results[1].failures
    assert isinstance(failure, assay.Failure)
    assert failure.expectation == "exit"


def test_run_defaults_to_the_configured_paths(suites: Path) -> None:
    result = assay.run(jobs=2)
    assert [r.test.name for r in result.results] == [
        "slow",
        "quick",
        "after quick",
        "also quick",
        "fails",
    ]


def test_run_prints_nothing(suites: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assay.run([suites], jobs=2)
    assert capfd.readouterr() == ("", "")


def test_handlers_see_every_event_in_order(suites: Path) -> None:
    recorder = Recorder()
    result = assay.run([suites / "a.assay.yaml"], jobs=2, handlers=[recorder])
    events = recorder.events
    assert isinstance(events[0], RunStarted)
    assert events[0].jobs == 2
    assert [t.name for t in events[0].tests] == ["slow", "quick", "after quick"]
    assert isinstance(events[-1], RunFinished)
    # The returned result also carries the id it was recorded under, known only afterwards.
    assert result.run_id is not None
    assert events[-1].result == replace(result, run_id=None)
    for test in events[0].tests:
        mine = [
            type(e).__name__
            for e in events
            if (isinstance(e, (TestStarted, AttemptStarted, AttemptFinished)) and e.test == test)
            or (isinstance(e, TestFinished) and e.result.test == test)
        ]
        assert mine == ["TestStarted", "AttemptStarted", "AttemptFinished", "TestFinished"], (
            test.name
        )


@pytest.mark.parametrize(
    ("keyword", "tags", "names"),
    [
        (None, (), ["slow", "quick", "after quick", "also quick", "fails"]),
        ("quick", (), ["quick", "after quick", "also quick"]),
        ("second", (), ["also quick", "fails"]),
        ("not quick and not slow", (), ["fails"]),
        (None, ("smoke",), ["quick", "also quick"]),
        (None, ("smoke", "slow"), ["slow", "quick", "also quick"]),
        ("a.assay", ("smoke",), ["quick"]),
        # The tests a selected test needs come along.
        ("after", (), ["quick", "after quick"]),
    ],
    ids=["all", "keyword", "suite-name", "expression", "tag", "tags", "both", "needs"],
)
def test_collect_selects(
    suites: Path, keyword: str | None, tags: tuple[str, ...], names: list[str]
) -> None:
    tests = assay.collect([suites], keyword=keyword, tags=tags)
    assert all(isinstance(t, assay.CommandTest) for t in tests)
    assert [t.name for t in tests] == names


def test_run_takes_keyword_and_tags(suites: Path) -> None:
    result = assay.run([suites], keyword="quick", tags=["smoke"], jobs=2)
    assert [r.test.name for r in result.results] == ["quick", "also quick"]
    assert result.ok


def test_collect_returns_loaded_tests(suites: Path) -> None:
    quick = assay.collect([suites / "a.assay.yaml"], keyword="quick and not after")[0]
    assert quick.suite == "first"
    assert quick.id == "a.assay.yaml::quick"
    assert quick.argv == ("sh", "-c", "echo quick")
    assert quick.tags == frozenset({"smoke"})
    assert quick.suite_file == suites / "a.assay.yaml"


def test_spec_error_is_raised_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "side-effect"
    write(tmp_path, "assay.toml", "")
    write(tmp_path, "good.assay.yaml", f"tests:\n  - run: [touch, '{marker}']\n")
    write(tmp_path, "bad.assay.yaml", "tests:\n  - run: echo\n    expect: {exitt: 0}\n")
    isolate(monkeypatch, tmp_path)
    for call in (assay.collect, assay.run):
        with pytest.raises(assay.SpecError) as caught:
            call([tmp_path])
        assert isinstance(caught.value, assay.AssayError)
        [problem] = caught.value.problems
        assert (str(problem.path), problem.line, problem.column) == ("bad.assay.yaml", 3, 14)
        assert "did you mean 'exit'?" in problem.message
        assert str(caught.value) == str(problem)
    assert not marker.exists()


def test_yaml_syntax_error_is_a_spec_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "bad.assay.yaml", "tests: [unclosed\n")
    isolate(monkeypatch, tmp_path)
    with pytest.raises(assay.SpecError):
        assay.run([tmp_path / "bad.assay.yaml"])


@pytest.mark.parametrize(
    ("paths", "keyword", "message"),
    [
        (["missing"], None, "file or directory not found: missing"),
        (None, "(quick or", "-k: expression ends too early"),
    ],
    ids=["missing-path", "bad-keyword"],
)
def test_usage_errors(
    suites: Path, paths: list[str] | None, keyword: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")) as caught:
        assay.run(paths, keyword=keyword)
    assert isinstance(caught.value, assay.AssayError)


def test_settings_are_used(suites: Path) -> None:
    settings = assay.load_settings().merge(
        paths=(suites / "b.assay.yaml",), keep_tmp=True, tmp_dir=suites / "runs"
    )
    assert isinstance(settings, assay.Settings)
    result = assay.run(settings=settings, jobs=1)
    assert [r.test.name for r in result.results] == ["also quick", "fails"]
    assert result.tmp_dir is not None
    assert Path(result.tmp_dir).parent == suites / "runs"
    attempt = result.results[0].attempts[0]
    assert attempt.workdir is not None
    assert Path(attempt.workdir).is_dir()
    assert attempt.stdout is not None
    assert attempt.stdout.path is not None
    assert Path(attempt.stdout.path).read_text() == "also\n"


def test_timeout_interrupts_the_run(suites: Path) -> None:
    result = assay.run([suites / "a.assay.yaml"], jobs=1, keyword="slow", timeout=0.1)
    assert result.interrupted == "run deadline of 100ms reached"
    assert result.ok is False
    assert result.results[0].outcome is assay.Outcome.TIMEOUT


def test_update_snapshots_writes_golden_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        "snap.assay.yaml",
        "tests:\n  - name: table\n    run: echo 1\n    expect: {stdout: {snapshot: true}}\n",
    )
    isolate(monkeypatch, tmp_path)
    assert not assay.run([tmp_path]).ok
    written = assay.run([tmp_path], update_snapshots=True)
    assert written.ok
    golden = tmp_path / "__snapshots__" / "snap" / "table.stdout"
    assert written.results[0].attempts[0].notes == (f"snapshot written: {golden}",)
    assert golden.read_text() == "1\n"
    assert assay.run([tmp_path]).ok


def test_jobs_below_one_is_rejected(suites: Path) -> None:
    with pytest.raises(assay.AssayError):
        assay.run([suites / "b.assay.yaml"], jobs=0)


def test_jobs_error_names_the_setting(suites: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        assay.run([suites / "b.assay.yaml"], jobs=0)
    assert str(caught.value) == "jobs: must be at least 1"


def test_an_unwritable_report_does_not_stop_the_other(suites: Path) -> None:
    (suites / "taken").mkdir()
    with pytest.raises(ReportWriteError) as caught:
        assay.run([suites / "b.assay.yaml"], junit="taken", json=suites / "out" / "run.json")
    assert str(caught.value) == "taken: cannot write the JUnit report: Is a directory"
    assert (suites / "out" / "run.json").is_file()
