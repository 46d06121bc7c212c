"""Projects whose pytest sessions are recorded into a database of each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_sessions import PytestProject, RecordedProject

from fixtures.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def recorded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordedProject]:
    """A project recording into SQLite at the default place, or into PostgreSQL by `--assay-db`."""
    project = PytestProject(tmp_path / "project")
    if request.param == "sqlite":
        yield RecordedProject(project, f"sqlite:///{project.default_db}", ("--assay",))
    else:
        with database(request.param, tmp_path) as url:
            yield RecordedProject(project, url, ("--assay-db", url))
