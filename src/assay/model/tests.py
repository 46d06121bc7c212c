"""A test as the engine sees it: fully resolved, interpolated and validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assay.model.expectations import Expectations


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: a file, a 1-based line and a 1-based column."""

    path: Path
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied to a test's process tree through rlimits."""

    cpu_seconds: int | None = None
    memory_bytes: int | None = None
    open_files: int | None = None
    core_bytes: int | None = None

    def any(self) -> bool:
        """Whether at least one limit is set."""
        return any(
            v is not None
            for v in (self.cpu_seconds, self.memory_bytes, self.open_files, self.core_bytes)
        )


@dataclass(frozen=True, slots=True)
class FileSpec:
    """A file created in the test's work directory before the command starts."""

    path: str
    content: str
    mode: int | None = None


@dataclass(frozen=True, slots=True)
class CommandTest:
    """One command test (`run:`), ready to execute."""

    __test__ = False

    suite: str
    name: str
    location: Location
    suite_file: Path
    run: str | tuple[str, ...]
    stdin: str | None = None
    env: tuple[tuple[str, str | None], ...] = ()
    inherit_env: bool = True
    cwd: str | None = None
    files: tuple[FileSpec, ...] = ()
    timeout: float | None = None
    idle_timeout: float | None = None
    retries: int = 0
    needs: tuple[str, ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)
    skip: str | None = None
    strip_ansi: bool = False
    limits: Limits = field(default_factory=Limits)
    expect: Expectations = field(default_factory=Expectations)

    @property
    def id(self) -> str:
        """The stable identity used by reports and history: `file::name`."""
        return f"{self.location.path.as_posix()}::{self.name}"

    @property
    def kind(self) -> str:
        """The test's kind, named after the key that says what it does."""
        return "run"

    @property
    def argv(self) -> tuple[str, ...]:
        """The argument vector: a string goes through `sh -c`, a list is used as is."""
        if isinstance(self.run, str):
            return ("sh", "-c", self.run)
        return self.run
