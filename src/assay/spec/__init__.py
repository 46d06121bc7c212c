"""The test-file format: YAML with positions, validation and interpolation.

`load` turns paths into validated tests or raises one `SpecError` that lists
every problem in every file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from assay.errors import SpecError, SpecProblem
from assay.model import CommandTest, ServiceSpec
from assay.model.units import format_duration, parse_duration, parse_size
from assay.spec.discovery import discover, display_path
from assay.spec.source import Problems
from assay.spec.suites import load_services as _load_services
from assay.spec.suites import load_suite

__all__ = [
    "discover",
    "format_duration",
    "load",
    "load_files",
    "load_services",
    "parse_duration",
    "parse_size",
]


def load(
    paths: Sequence[Path],
    exclude: Iterable[Path] = (),
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[CommandTest]:
    """All tests under `paths`, in file order; raises `SpecError` listing every problem."""
    return load_files(discover(paths, exclude, cwd), cwd, environ)


def load_files(
    files: Sequence[Path], cwd: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[CommandTest]:
    """All tests of the given suite files; raises `SpecError` listing every problem."""
    tests: list[CommandTest] = []
    problems: list[SpecProblem] = []
    for file in files:
        display = display_path(file, cwd)
        collected = Problems(display)
        tests.extend(load_suite(file, display, collected, environ))
        problems.extend(collected.items)
    if problems:
        raise SpecError(problems)
    return tests


def load_services(
    file: Path, cwd: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, ServiceSpec]:
    """The services defined in a suite file, by name; raises `SpecError` listing every problem.

    The file may hold only `services` (and `vars`), with no tests: a file of
    shared definitions for the pytest plugin's `assay_service` fixture.
    """
    problems = Problems(display_path(file, cwd))
    services = _load_services(file, problems.path, problems, environ)
    if problems.items:
        raise SpecError(problems.items)
    return services
