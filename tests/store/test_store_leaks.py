"""The Python API closes what it opens: no PostgreSQL connection outlives the call.

A program that calls `assay.run` or `import_results` many times (a server, a
pytest plugin, a notebook) must not collect one idle connection per call.
SQLite connections do not warn, so these tests need PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import assay
from assay.api import HistorySelection, collect, import_results
from fixtures.databases import (
    ForeignResults,
    HistoryProject,
    history_project,
    unclosed_connections,
)

SUITE = "tests:\n  - name: one\n    run: 'true'\n  - name: two\n    run: 'false'\n"


@pytest.fixture
def postgres_project(tmp_path: Path) -> Iterator[HistoryProject]:
    with history_project("postgresql", tmp_path) as project:
        project.write("suite.assay.yaml", SUITE)
        yield project


def test_a_recorded_run_closes_its_connections(postgres_project: HistoryProject) -> None:
    with unclosed_connections() as leaked:
        result = assay.run([postgres_project.root], settings=postgres_project.settings())
    assert result.run_id is not None
    assert leaked == []


def test_an_import_closes_its_connections(
    postgres_project: HistoryProject, foreign_results: ForeignResults
) -> None:
    with unclosed_connections() as leaked:
        import_results([foreign_results.junit], settings=postgres_project.settings())
    assert leaked == []


def test_selection_from_history_closes_its_connections(postgres_project: HistoryProject) -> None:
    with unclosed_connections():
        assay.run([postgres_project.root], settings=postgres_project.settings())
    with unclosed_connections() as leaked:
        tests = collect(
            [postgres_project.root],
            settings=postgres_project.settings(),
            history=HistorySelection(last_failed=True),
        )
    assert [t.name for t in tests] == ["two"]
    assert leaked == []
