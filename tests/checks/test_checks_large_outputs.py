"""Outputs larger than the captured head and tail: full-content checks stream the log file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.checks import SnapshotTarget, Verdict, check_output, read_output
from assay.checks.outputs import CHUNK, HEAD_BYTES, TAIL_BYTES
from assay.model import Failure, Matcher, MatcherKind, Output

K = MatcherKind
SIZE = 3 * 1024 * 1024
NEEDLE = "NEEDLE-IN-THE-MIDDLE"


def make_log(path: Path, inserts: dict[int, str] | None = None) -> str:
    """Write SIZE bytes of numbered lines, with `inserts` placed at given offsets; return it."""
    line = "line of ordinary output\n"
    content = (line * (SIZE // len(line) + 1))[:SIZE]
    for offset, text in (inserts or {}).items():
        content = content[:offset] + text + content[offset + len(text) :]
    path.write_text(content)
    return content


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, str]:
    """A 3 MiB log with a needle in its middle, far from the captured head and tail."""
    path = tmp_path / "stdout.log"
    return path, make_log(path, {SIZE // 2: NEEDLE})


def check(output: Output, *matchers: Matcher, snapshots: SnapshotTarget | None = None) -> Verdict:
    verdict = Verdict()
    check_output(matchers, output, "stdout", verdict, snapshots=snapshots)
    return verdict


def test_the_output_is_truncated(log: tuple[Path, str]) -> None:
    path, content = log
    output = read_output(path)
    assert output.truncated
    assert output.size == SIZE
    assert output.path == str(path)
    assert NEEDLE not in output.text
    assert output.text.startswith(content[:HEAD_BYTES])
    assert output.text.endswith(content[-TAIL_BYTES:])


class TestExact:
    def test_the_whole_file_matches(self, log: tuple[Path, str]) -> None:
        path, content = log
        assert check(read_output(path), Matcher(K.EXACT, content)).failures == []

    def test_a_difference_in_the_middle_fails(self, log: tuple[Path, str]) -> None:
        path, content = log
        expected = content.replace(NEEDLE, NEEDLE.lower())
        [failure] = check(read_output(path), Matcher(K.EXACT, expected)).failures
        assert failure.expectation == "stdout"
        assert failure.message == (
            f"stdout is not exactly as expected (output of {SIZE} bytes; "
            "only its head and tail are shown)"
        )
        assert failure.diff is not None
        assert failure.diff.startswith("--- expected\n+++ actual stdout\n")

    def test_a_different_length_fails(self, log: tuple[Path, str]) -> None:
        path, content = log
        assert len(check(read_output(path), Matcher(K.EXACT, content + "x")).failures) == 1
        assert len(check(read_output(path), Matcher(K.EXACT, content[:-1])).failures) == 1


class TestContains:
    def test_a_needle_in_the_middle_is_found(self, log: tuple[Path, str]) -> None:
        path, _ = log
        assert check(read_output(path), Matcher(K.CONTAINS, NEEDLE)).failures == []

    def test_a_needle_across_a_chunk_boundary_is_found(self, tmp_path: Path) -> None:
        path = tmp_path / "stdout.log"
        make_log(path, {CHUNK - len(NEEDLE) // 2: NEEDLE})
        assert check(read_output(path), Matcher(K.CONTAINS, NEEDLE)).failures == []
        assert len(check(read_output(path), Matcher(K.NOT_CONTAINS, NEEDLE)).failures) == 1

    def test_an_absent_needle_fails(self, log: tuple[Path, str]) -> None:
        path, _ = log
        [failure] = check(read_output(path), Matcher(K.CONTAINS, "nowhere")).failures
        assert failure.message == "stdout does not contain 'nowhere'"

    def test_not_contains_sees_the_middle(self, log: tuple[Path, str]) -> None:
        path, _ = log
        [failure] = check(read_output(path), Matcher(K.NOT_CONTAINS, NEEDLE)).failures
        assert failure == Failure(
            "stdout.not_contains",
            f"stdout contains {NEEDLE!r}",
            expected=NEEDLE,
            actual=failure.actual,
        )
        assert check(read_output(path), Matcher(K.NOT_CONTAINS, "nowhere")).failures == []

    def test_the_omission_marker_is_not_output(self, log: tuple[Path, str]) -> None:
        path, _ = log
        assert check(read_output(path), Matcher(K.NOT_CONTAINS, "bytes omitted")).failures == []


class TestSnapshot:
    def test_update_copies_the_whole_file(self, log: tuple[Path, str], tmp_path: Path) -> None:
        path, content = log
        target = SnapshotTarget(tmp_path / "__snapshots__" / "suite", "big.stdout", update=True)
        verdict = check(read_output(path), Matcher(K.SNAPSHOT, ""), snapshots=target)
        snapshot = target.path("")
        assert verdict.failures == []
        assert verdict.notes == [f"snapshot written: {snapshot}"]
        assert snapshot.read_text() == content

    def test_same_file_matches(self, log: tuple[Path, str], tmp_path: Path) -> None:
        path, content = log
        target = SnapshotTarget(tmp_path, "big.stdout")
        target.path("").write_text(content)
        verdict = check(read_output(path), Matcher(K.SNAPSHOT, ""), snapshots=target)
        assert (verdict.failures, verdict.notes) == ([], [])

    def test_a_difference_in_the_middle_fails(self, log: tuple[Path, str], tmp_path: Path) -> None:
        path, content = log
        target = SnapshotTarget(tmp_path, "big.stdout")
        target.path("").write_text(content.replace(NEEDLE, NEEDLE.lower()))
        [failure] = check(read_output(path), Matcher(K.SNAPSHOT, ""), snapshots=target).failures
        assert failure.expectation == "stdout.snapshot"
        assert failure.message == f"stdout does not match snapshot {target.path('')}"
