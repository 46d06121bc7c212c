"""The store's tests run on every backend: SQLite always, PostgreSQL when one is configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.store import Store
from fixtures.databases import (
    BACKENDS,
    HistoryProject,
    database,
    opened_store,
)


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store on a database of each backend that the tests of one module share.

    Only for tests that read: setting a database up costs more than most
    reading tests (a PostgreSQL schema takes about 0.1 s to migrate).
    """
    directory = tmp_path_factory.mktemp("shared")
    with database(request.param, directory) as url, opened_store(url, directory) as opened:
        yield opened


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    """A store of project `demo` on an empty database of each backend."""
    with opened_store(database_url, tmp_path) as opened:
        yield opened


@pytest.fixture
def recorded(fresh: HistoryProject) -> HistoryProject:
    """A project recording into an empty database of each backend, its `cli` ready to use."""
    return fresh
