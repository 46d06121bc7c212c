"""Projects whose pytest sessions are recorded into a database of each backend."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_sessions import PytestProject

from assay.store import Store
from fixtures.databases import BACKENDS, database, opened_store
from fixtures.projects import CliResult


@dataclass
class RecordedProject:
    """A pytest project and the database its `--assay` sessions record into."""

    project: PytestProject
    url: str
    options: tuple[str, ...]
    """The options that record into `url`: the default location needs only `--assay`."""

    def pytest(self, *args: str, record: bool = True) -> CliResult:
        """Run pytest in the project, recording (unless told not to)."""
        return self.project.pytest(*(self.options if record else ()), *args)

    def write(self, name: str, text: str) -> Path:
        """Write a file (dedented) under the project."""
        return self.project.write(name, text)

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """A store on the project's database, as a later `assay` command opens it."""
        with opened_store(self.url, self.project.root / ".assay", "project") as store:
            yield store


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def recorded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordedProject]:
    """A project recording into SQLite at the default place, or into PostgreSQL by `--assay-db`."""
    project = PytestProject(tmp_path / "project")
    if request.param == "sqlite":
        yield RecordedProject(project, f"sqlite:///{project.default_db}", ("--assay",))
    else:
        with database(request.param, tmp_path) as url:
            yield RecordedProject(project, url, ("--assay-db", url))
