"""Expectations on files a command left in its work directory (`assay.checks.check_files`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.checks import SnapshotTarget, Verdict, check_files
from assay.model import Failure, FileExpectation, Matcher, MatcherKind

K = MatcherKind


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "out").mkdir(parents=True)
    (work / "out" / "report.txt").write_text("total: 3\nok\n")
    (work / "empty.txt").write_text("")
    (work / "a-directory").mkdir()
    return work


def files(workdir: Path, *expectations: FileExpectation, **kwargs: SnapshotTarget) -> Verdict:
    verdict = Verdict()
    check_files(expectations, workdir, verdict, **kwargs)
    return verdict


def expect(path: str, *matchers: Matcher) -> FileExpectation:
    return FileExpectation(path, matchers)


@pytest.mark.parametrize(
    "expectation",
    [
        expect("out/report.txt", Matcher(K.EXISTS, True)),
        expect("nothing-here.txt", Matcher(K.EXISTS, False)),
        expect("out/report.txt", Matcher(K.CONTAINS, "total")),
        expect("out/report.txt", Matcher(K.EXACT, "total: 3\nok\n")),
        expect("out/report.txt", Matcher(K.LINES, 2), Matcher(K.MATCHES, r"^total: \d+$")),
        expect("out/report.txt", Matcher(K.EXISTS, True), Matcher(K.NOT_CONTAINS, "error")),
        expect("empty.txt", Matcher(K.EMPTY, True)),
        expect("a-directory", Matcher(K.EXISTS, False)),
    ],
    ids=[
        "exists",
        "does-not-exist",
        "contains",
        "exact",
        "lines-and-matches",
        "exists-and-content",
        "empty",
        "a-directory-is-not-a-file",
    ],
)
def test_passing(workdir: Path, expectation: FileExpectation) -> None:
    verdict = files(workdir, expectation)
    assert (verdict.failures, verdict.notes) == ([], [])


def test_expected_file_was_not_created(workdir: Path) -> None:
    verdict = files(workdir, expect("missing.txt", Matcher(K.EXISTS, True)))
    assert verdict.failures == [
        Failure("file missing.txt.exists", "file missing.txt was not created")
    ]


def test_unwanted_file_exists(workdir: Path) -> None:
    verdict = files(workdir, expect("out/report.txt", Matcher(K.EXISTS, False)))
    assert verdict.failures == [
        Failure("file out/report.txt.exists", "file out/report.txt exists but should not")
    ]


def test_content_of_a_missing_file(workdir: Path) -> None:
    verdict = files(workdir, expect("missing.txt", Matcher(K.CONTAINS, "x"), Matcher(K.LINES, 1)))
    assert verdict.failures == [Failure("file missing.txt", "file missing.txt was not created")]


def test_a_missing_file_is_reported_once_with_exists(workdir: Path) -> None:
    verdict = files(
        workdir, expect("missing.txt", Matcher(K.EXISTS, True), Matcher(K.CONTAINS, "x"))
    )
    assert [f.message for f in verdict.failures] == ["file missing.txt was not created"]


def test_content_matchers_fail_with_the_file_as_subject(workdir: Path) -> None:
    verdict = files(
        workdir,
        expect("out/report.txt", Matcher(K.CONTAINS, "total: 4"), Matcher(K.EXACT, "ok\n")),
    )
    assert [(f.expectation, f.message) for f in verdict.failures] == [
        ("file out/report.txt.contains", "file out/report.txt does not contain 'total: 4'"),
        ("file out/report.txt", "file out/report.txt is not exactly as expected"),
    ]
    assert verdict.failures[1].diff == (
        "--- expected\n+++ actual file out/report.txt\n@@ -1 +1,2 @@\n+total: 3\n ok\n"
    )


def test_every_file_is_checked(workdir: Path) -> None:
    verdict = files(
        workdir,
        expect("a.txt", Matcher(K.EXISTS, True)),
        expect("out/report.txt", Matcher(K.EMPTY, True)),
        expect("b.txt", Matcher(K.EXISTS, True)),
    )
    assert [f.expectation for f in verdict.failures] == [
        "file a.txt.exists",
        "file out/report.txt.empty",
        "file b.txt.exists",
    ]


def test_file_snapshot_is_named_after_the_test_and_the_path(workdir: Path, tmp_path: Path) -> None:
    target = SnapshotTarget(tmp_path / "__snapshots__" / "suite", "writes-a-report", update=True)
    verdict = files(workdir, expect("out/report.txt", Matcher(K.SNAPSHOT, "")), snapshots=target)
    written = target.directory / "writes-a-report.out-report.txt"
    assert verdict.notes == [f"snapshot written: {written}"]
    assert written.read_text() == "total: 3\nok\n"

    checking = SnapshotTarget(target.directory, "writes-a-report")
    assert (
        files(
            workdir, expect("out/report.txt", Matcher(K.SNAPSHOT, "")), snapshots=checking
        ).failures
        == []
    )
    (workdir / "out" / "report.txt").write_text("total: 4\n")
    [failure] = files(
        workdir, expect("out/report.txt", Matcher(K.SNAPSHOT, "")), snapshots=checking
    ).failures
    assert failure.expectation == "file out/report.txt.snapshot"
    assert failure.message == f"file out/report.txt does not match snapshot {written}"
