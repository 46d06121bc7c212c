"""The schema: migrated on first use, pinned to Alembic's head, and refused when too new."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from assay.errors import ConfigError
from assay.store import Store, queries
from assay.store.migrations import HEAD, LOCATION
from assay.store.rows import Base
from fixtures.databases import execute, opened_store, rows, scalar

TABLES = {
    "alembic_version",
    "artifacts",
    "attempts",
    "deliveries",
    "ingest_batches",
    "projects",
    "results",
    "runs",
    "tests",
    "tokens",
    "webhooks",
}


def _tables(store: Store) -> set[str]:
    if store.url.startswith("sqlite"):
        found = rows(store, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        found = rows(
            store,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()",
        )
    return {name for (name,) in found}


def test_head_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(LOCATION))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_first_connection_creates_the_schema(store: Store) -> None:
    connection = store.connect()
    connection.close()
    assert _tables(store) == TABLES
    assert scalar(store, "SELECT version_num FROM alembic_version") == HEAD


def test_a_query_on_a_fresh_database_migrates_it_too(store: Store) -> None:
    assert queries.list_runs(store) == []
    assert _tables(store) == TABLES


def test_the_migrated_schema_matches_the_models(store: Store) -> None:
    store.connect().close()
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_upgrade_reports_the_revisions_before_and_after(store: Store) -> None:
    assert store.upgrade() == (None, HEAD)
    assert store.upgrade() == (HEAD, HEAD)
    assert _tables(store) == TABLES


def test_opening_again_keeps_what_is_stored(database_url: str, tmp_path: Path) -> None:
    with opened_store(database_url, tmp_path) as first:
        connection = first.connect()
        connection.execute("INSERT INTO projects (name, created_at) VALUES ('kept', 0)")
        connection.commit()
        connection.close()
    with opened_store(database_url, tmp_path) as second:
        second.connect().close()
        assert rows(second, "SELECT name FROM projects") == [("kept",)]


@pytest.mark.parametrize(
    "open_it",
    [
        lambda store: store.connect(),
        queries.list_runs,
        lambda store: store.upgrade(),
    ],
    ids=["connect", "query", "upgrade"],
)
def test_a_newer_unknown_revision_is_a_config_error(
    database_url: str, tmp_path: Path, open_it: object
) -> None:
    with opened_store(database_url, tmp_path) as store:
        store.connect().close()
        execute(store, "UPDATE alembic_version SET version_num = '9999'")
    with opened_store(database_url, tmp_path) as store, pytest.raises(ConfigError) as raised:
        open_it(store)  # type: ignore[operator]
    message = str(raised.value)
    assert "9999" in message
    assert "newer than this Assay knows" in message
    assert "upgrade Assay" in message
