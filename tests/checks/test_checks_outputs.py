"""Bounded views of captured output, diffs and ANSI stripping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assay.checks import preview, preview_lines, read_fd, read_output, strip_ansi, unified_diff
from assay.checks.diffs import MAX_DIFF_LINES
from assay.checks.outputs import file_contains, file_equals, files_equal
from assay.model import Output


class TestReadOutput:
    def test_small_file_is_read_whole(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"hello\nworld\n")
        assert read_output(path) == Output("hello\nworld\n", 12, False, str(path))

    def test_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"")
        assert read_output(path) == Output("", 0, False, str(path))

    def test_exactly_head_plus_tail_is_not_truncated(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"0123456789")
        assert read_output(path, head=6, tail=4) == Output("0123456789", 10, False, str(path))

    def test_larger_file_keeps_head_and_tail(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"HEAD-" + b"x" * 100 + b"-TAIL")
        output = read_output(path, head=5, tail=5)
        assert output == Output("HEAD-\n[... 100 bytes omitted ...]\n-TAIL", 110, True, str(path))

    def test_one_byte_over_is_truncated(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"abcdefghijk")
        output = read_output(path, head=6, tail=4)
        assert output.text == "abcdef\n[... 1 bytes omitted ...]\nhijk"
        assert output.truncated

    def test_invalid_utf8_is_replaced(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"caf\xe9\n")
        assert read_output(path).text == "caf\ufffd\n"

    def test_a_character_cut_at_the_boundary_is_replaced(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes("é".encode() + b"x" * 10 + "é".encode())
        output = read_output(path, head=1, tail=1)
        assert output.text == "\ufffd\n[... 12 bytes omitted ...]\n\ufffd"

    def test_read_fd_reads_from_an_open_file(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"0123456789")
        fd = os.open(path, os.O_RDONLY)
        try:
            assert read_fd(fd, None, head=2, tail=2) == Output(
                "01\n[... 6 bytes omitted ...]\n89", 10, True, None
            )
        finally:
            os.close(fd)

    def test_default_bounds_hold_half_a_mebibyte(self, tmp_path: Path) -> None:
        path = tmp_path / "out.log"
        path.write_bytes(b"y" * (2 * 1024 * 1024))
        output = read_output(path)
        assert output.truncated
        assert output.size == 2 * 1024 * 1024
        assert len(output.text) < 600 * 1024


class TestFileScans:
    def test_file_contains(self, tmp_path: Path) -> None:
        path = tmp_path / "f"
        path.write_bytes(b"abc needle def")
        assert file_contains(path, "needle")
        assert not file_contains(path, "nope")
        assert file_contains(path, "")

    def test_file_equals(self, tmp_path: Path) -> None:
        path = tmp_path / "f"
        path.write_bytes(b"same")
        assert file_equals(path, b"same")
        assert not file_equals(path, b"sane")
        assert not file_equals(path, b"same!")

    def test_files_equal(self, tmp_path: Path) -> None:
        a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
        a.write_bytes(b"x" * 3000)
        b.write_bytes(b"x" * 3000)
        c.write_bytes(b"x" * 2999 + b"y")
        assert files_equal(a, b)
        assert not files_equal(a, c)
        assert files_equal(a, a)


class TestUnifiedDiff:
    def test_equal_texts_have_no_diff(self) -> None:
        assert unified_diff("a\n", "a\n") == ""

    def test_labels_and_context(self) -> None:
        expected = "".join(f"{i}\n" for i in range(10))
        actual = expected.replace("5\n", "five\n")
        assert unified_diff(expected, actual, labels=("want", "got")) == (
            "--- want\n+++ got\n@@ -3,7 +3,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        )

    def test_no_newline_marker_on_both_sides(self) -> None:
        assert unified_diff("a", "b") == (
            "--- expected\n+++ actual\n@@ -1 +1 @@\n"
            "-a\n\\ No newline at end of file\n"
            "+b\n\\ No newline at end of file\n"
        )

    def test_only_the_final_newline_differs(self) -> None:
        assert unified_diff("a\n", "a") == (
            "--- expected\n+++ actual\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n"
        )

    def test_empty_side(self) -> None:
        assert unified_diff("", "x\n") == "--- expected\n+++ actual\n@@ -0,0 +1 @@\n+x\n"

    def test_long_diffs_are_cut(self) -> None:
        expected = "".join(f"{i}\n" for i in range(500))
        diff = unified_diff(expected, "")
        lines = diff.splitlines()
        assert len(lines) == MAX_DIFF_LINES + 1
        assert lines[-1] == f"[... {500 + 3 - MAX_DIFF_LINES} more diff lines ...]"


class TestStripAnsi:
    @pytest.mark.parametrize(
        ("text", "stripped"),
        [
            ("plain text\n", "plain text\n"),
            ("\x1b[1;32mok\x1b[0m", "ok"),
            ("\x1b[38;5;196mred\x1b[39m", "red"),
            ("\x1b[38;2;255;0;0mrgb\x1b[m", "rgb"),
            ("a\x1b[2Kb\x1b[1Gc\x1b[?25l", "abc"),
            ("\x1b]0;window title\x07text", "text"),
            ("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "link"),
            ("x\x1bMy\x1bDz", "xyz"),
            ("tab\tand\rcarriage\n", "tab\tand\rcarriage\n"),
            ("", ""),
        ],
        ids=[
            "plain",
            "sgr",
            "256-colours",
            "true-colour",
            "cursor-and-erase",
            "osc-title-bel",
            "osc-hyperlink-st",
            "two-char-escapes",
            "control-characters-kept",
            "empty",
        ],
    )
    def test_strip_ansi(self, text: str, stripped: str) -> None:
        assert strip_ansi(text) == stripped

    @pytest.mark.parametrize(
        ("text", "stripped"),
        [
            ("\x1b[1mbold\x1b(B\x1b[m", "bold"),
            ("\x1b7x\x1b8", "x"),
            ("\x1b=ok\x1b>", "ok"),
            ("\x1bcreset", "reset"),
        ],
        ids=["tput-sgr0", "save-restore-cursor", "keypad-modes", "full-reset"],
    )
    def test_strip_ansi_other_escapes(self, text: str, stripped: str) -> None:
        assert strip_ansi(text) == stripped


def test_preview_keeps_the_end() -> None:
    assert preview("short") == "short"
    assert preview("abcdefghij", limit=4) == "[... 6 characters before ...]\nghij"


def test_preview_lines_keeps_the_last_lines() -> None:
    assert preview_lines("a\nb\n", 5) == ["a", "b"]
    assert preview_lines("a\nb\nc\nd\n", 2) == ["[... 2 lines before ...]", "c", "d"]
