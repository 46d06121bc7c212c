"""Unified diffs between what a test expected and what it got."""

from __future__ import annotations

MAX_DIFF_LINES = 200
_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(
    expected: str, actual: str, *, labels: tuple[str, str] = ("expected", "actual")
) -> str:
    """A unified diff, with a marker where either side lacks a final newline."""
    import difflib  # only failures need it

    lines = list(difflib.unified_diff(_lines(expected), _lines(actual), labels[0], labels[1], n=3))
    if len(lines) > MAX_DIFF_LINES:
        dropped = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"[... {dropped} more diff lines ...]\n"]
    return "".join(lines)


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n" + _NO_NEWLINE
    return lines


def preview(text: str, limit: int = 2000) -> str:
    """`text` cut to about `limit` characters, keeping its end (where errors usually are)."""
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters before ...]\n" + text[-limit:]


def preview_lines(text: str, count: int) -> list[str]:
    """The last `count` lines of `text`, with a marker when some were left out."""
    lines = text.splitlines()
    if len(lines) <= count:
        return lines
    return [f"[... {len(lines) - count} lines before ...]", *lines[-count:]]
