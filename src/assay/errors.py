"""The error tree. Errors are grouped by who is at fault.

    AssayError
    ├── UserError                 the user can fix it; shown without a traceback
    │   ├── SpecError             a test file is malformed (carries every problem)
    │   ├── ConfigError           assay.toml / [tool.assay] / ASSAY_* is invalid
    │   ├── ReportFormatError     a results file to import is malformed (file, line)
    │   ├── UsageError            the command line is invalid
    │   └── ReportWriteError      a report file cannot be written where the user asked
    ├── NotFoundError             something named does not exist (also a LookupError)
    ├── ServiceError              a service did not start, was not ready, or died
                                  (assay.services; the tests that need it end as errors)
    └── InternalError             a bug in Assay

Test verdicts are not exceptions: a failed expectation is data on a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class AssayError(Exception):
    """Root of every error Assay raises on purpose."""


class UserError(AssayError):
    """An error the user can fix; its message is shown without a traceback."""


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """One problem in a test file, at a 1-based line and column."""

    path: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class SpecError(UserError):
    """One or more test files are malformed; `problems` lists all of them."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.path), p.line, p.column))
        super().__init__("\n".join(map(str, self.problems)))


class ConfigError(UserError):
    """The configuration (file, environment or flags) is invalid."""


class ReportFormatError(UserError):
    """A foreign results file (JUnit XML, pytest report log) cannot be read."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


class UsageError(UserError):
    """The command line is invalid."""


class ReportWriteError(UserError):
    """A JUnit or JSON report could not be written to the path the user gave."""


class NotFoundError(LookupError, AssayError):
    """Something the user named does not exist."""


class InternalError(AssayError):
    """A bug in Assay."""
