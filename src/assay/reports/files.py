"""Writing the report files once a run is over.

A report that cannot be written (a directory in the way, a full disk) must not
cost the others, nor show up as a crash: every requested report is attempted,
and the failures are raised together afterwards as one `ReportWriteError` that
names each path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assay.errors import ReportWriteError
from assay.model import RunResult
from assay.reports.json_report import write_json
from assay.reports.junit import write_junit


def write_reports(
    run: RunResult, *, version: str, junit: Path | None = None, json: Path | None = None
) -> None:
    """Write each requested report; raises `ReportWriteError` for those that could not be."""
    writes: list[tuple[str, Path, Callable[[], None]]] = []
    if junit is not None:
        writes.append(("JUnit", junit, lambda: write_junit(run, junit)))
    if json is not None:
        writes.append(("JSON", json, lambda: write_json(run, json, version)))
    problems = []
    for kind, path, write in writes:
        try:
            write()
        except OSError as error:
            problems.append(f"{path}: cannot write the {kind} report: {_reason(error, path)}")
    if problems:
        raise ReportWriteError("; ".join(problems))


def _reason(error: OSError, path: Path) -> str:
    # When creating the report's directory fails, the culprit is a parent of `path`;
    # mkdir(exist_ok=True) says "File exists" when that parent is a file.
    if isinstance(error, FileExistsError) and error.filename is not None:
        return f"{error.filename} is not a directory"
    reason = error.strerror or str(error)
    if error.filename is not None and Path(error.filename) != path:
        return f"{reason}: {error.filename}"
    return reason
