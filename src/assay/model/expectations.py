"""What a test expects of its command: exit status, output, files, duration."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MatcherKind(enum.Enum):
    """The kinds of output matcher a test file can name."""

    EXACT = "exact"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    MATCHES = "matches"
    EMPTY = "empty"
    LINES = "lines"
    JSON = "json"
    SNAPSHOT = "snapshot"
    EXISTS = "exists"


@dataclass(frozen=True, slots=True)
class Matcher:
    """One expectation over a text: its kind and the value it was given.

    `value` is a `str` for exact/contains/not_contains/matches, a `bool` for
    empty/exists, an `int` or a tuple of strings for lines, any JSON value for
    json, and the snapshot's name (a `str`) for snapshot. `path` is the JSONPath
    of a json matcher.
    """

    kind: MatcherKind
    value: object
    path: str | None = None


@dataclass(frozen=True, slots=True)
class ExitExpectation:
    """Which exit codes pass: a set of codes, or any non-zero code."""

    codes: frozenset[int] = frozenset({0})
    nonzero: bool = False

    def accepts(self, code: int) -> bool:
        """Whether `code` satisfies this expectation."""
        return code != 0 if self.nonzero else code in self.codes

    def describe(self) -> str:
        """A short human description, such as `0` or `one of 1, 2`."""
        if self.nonzero:
            return "non-zero"
        codes = sorted(self.codes)
        if len(codes) == 1:
            return str(codes[0])
        return "one of " + ", ".join(map(str, codes))


@dataclass(frozen=True, slots=True)
class FileExpectation:
    """Matchers over one file left in the work directory."""

    path: str
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True, slots=True)
class Expectations:
    """Everything a command test checks once its process has ended."""

    exit: ExitExpectation | None = ExitExpectation()
    signal: int | None = None
    stdout: tuple[Matcher, ...] = ()
    stderr: tuple[Matcher, ...] = ()
    files: tuple[FileExpectation, ...] = ()
    max_duration: float | None = None
