"""Snapshot matchers: golden files beside the suite, rewritten with --update-snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.checks import SnapshotTarget, Verdict, check_output, slug
from assay.model import Matcher, MatcherKind, Output

SNAPSHOT = Matcher(MatcherKind.SNAPSHOT, "")


def check(
    text: str, target: SnapshotTarget, matcher: Matcher = SNAPSHOT, ansi: bool = False
) -> Verdict:
    verdict = Verdict()
    output = Output(text, len(text.encode()))
    check_output((matcher,), output, "stdout", verdict, snapshots=target, ansi=ansi)
    return verdict


@pytest.fixture
def target(tmp_path: Path) -> SnapshotTarget:
    return SnapshotTarget(tmp_path / "__snapshots__" / "suite", "finds-a-line.stdout")


def test_missing_snapshot_fails_and_says_how_to_create_it(target: SnapshotTarget) -> None:
    verdict = check("hello\n", target)
    [failure] = verdict.failures
    path = target.directory / "finds-a-line.stdout"
    assert failure.expectation == "stdout.snapshot"
    assert failure.message == (
        f"snapshot {path} does not exist; run with --update-snapshots to create it"
    )
    assert failure.actual == "hello\n"
    assert verdict.notes == []
    assert not target.directory.exists()


def test_update_writes_the_file_and_adds_a_note(target: SnapshotTarget) -> None:
    updating = SnapshotTarget(target.directory, target.default_name, update=True)
    verdict = check("hello\n", updating)
    path = target.directory / "finds-a-line.stdout"
    assert verdict.failures == []
    assert verdict.notes == [f"snapshot written: {path}"]
    assert path.read_bytes() == b"hello\n"
    # No temporary file is left beside it.
    assert [p.name for p in target.directory.iterdir()] == ["finds-a-line.stdout"]


def test_match_passes(target: SnapshotTarget) -> None:
    target.directory.mkdir(parents=True)
    target.path("").write_text("same\n")
    verdict = check("same\n", target)
    assert (verdict.failures, verdict.notes) == ([], [])


def test_update_of_a_matching_snapshot_writes_nothing(target: SnapshotTarget) -> None:
    target.directory.mkdir(parents=True)
    target.path("").write_text("same\n")
    updating = SnapshotTarget(target.directory, target.default_name, update=True)
    assert check("same\n", updating).notes == []


def test_mismatch_gives_a_diff(target: SnapshotTarget) -> None:
    target.directory.mkdir(parents=True)
    path = target.path("")
    path.write_text("one\ntwo\n")
    [failure] = check("one\n2\n", target).failures
    assert failure.message == f"stdout does not match snapshot {path}"
    assert failure.diff == (f"--- {path}\n+++ actual stdout\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n")


def test_a_missing_final_newline_is_a_mismatch(target: SnapshotTarget) -> None:
    target.directory.mkdir(parents=True)
    target.path("").write_text("one\n")
    [failure] = check("one", target).failures
    assert failure.diff is not None
    assert failure.diff.endswith("-one\n+one\n\\ No newline at end of file\n")


def test_update_replaces_a_mismatching_snapshot(target: SnapshotTarget) -> None:
    target.directory.mkdir(parents=True)
    target.path("").write_text("old\n")
    updating = SnapshotTarget(target.directory, target.default_name, update=True)
    verdict = check("new\n", updating)
    assert verdict.failures == []
    assert target.path("").read_text() == "new\n"


def test_a_named_snapshot(target: SnapshotTarget) -> None:
    updating = SnapshotTarget(target.directory, target.default_name, update=True)
    check("warning\n", updating, Matcher(MatcherKind.SNAPSHOT, "disk-warning.txt"))
    assert (target.directory / "disk-warning.txt").read_text() == "warning\n"
    assert not (target.directory / "finds-a-line.stdout").exists()


def test_unicode_is_written_as_utf8(target: SnapshotTarget) -> None:
    updating = SnapshotTarget(target.directory, target.default_name, update=True)
    check("café ☕\n", updating)
    assert target.path("").read_bytes() == "café ☕\n".encode()
    assert check("café ☕\n", target).failures == []


def test_ansi_stripping_applies_to_snapshots(target: SnapshotTarget) -> None:
    updating = SnapshotTarget(target.directory, target.default_name, update=True)
    check("\x1b[31mred\x1b[0m\n", updating, ansi=True)
    assert target.path("").read_text() == "red\n"
    assert check("\x1b[32mred\x1b[0m\n", target, ansi=True).failures == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("finds a line", "finds-a-line"),
        ("a/b: c?", "a-b-c"),
        ("keep_these.chars-ok", "keep_these.chars-ok"),
        ("...", "test"),
        ("", "test"),
        (".hidden", "hidden"),
        ("café", "caf"),
    ],
    ids=["spaces", "punctuation", "safe", "dots-only", "empty", "leading-dot", "non-ascii"],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected
