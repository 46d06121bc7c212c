"""Keeping the database's schema current: checked cheaply, migrated by Alembic."""

from __future__ import annotations

from typing import Any

from assay.errors import ConfigError
from assay.store.connections import Connection, engine_for, redact
from assay.store.migrations import HEAD, LOCATION


def revision(connection: Connection) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    if connection.dialect == "sqlite":
        found = connection.query(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        )
    else:
        found = connection.query("SELECT to_regclass('alembic_version')")
        found = [row for row in found if row[0] is not None]
    if not found:
        return None
    rows = connection.query("SELECT version_num FROM alembic_version")
    return str(rows[0][0]) if rows else None


def is_current(connection: Connection) -> bool:
    """Whether the schema is at `HEAD`; a newer, unknown revision is an error."""
    current = revision(connection)
    if current is None or current < HEAD:
        return False
    _refuse_newer(current)
    return True


def _refuse_newer(current: str | None) -> None:
    """Raise `ConfigError` if `current` is a revision this Assay does not know (a newer one)."""
    if current is not None and current > HEAD:
        raise ConfigError(
            f"the database is at schema revision {current}, newer than this Assay knows "
            f"({HEAD}); upgrade Assay"
        )


def upgrade(url: str, engine: Any | None = None) -> str | None:
    """Apply every pending migration; returns the revision the database was at before."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.exc import SQLAlchemyError

    engine = engine or engine_for(url)
    config = Config()
    config.set_main_option("script_location", str(LOCATION))
    try:
        with engine.begin() as connection:
            from assay.store.connections import AlchemyConnection

            before = revision(AlchemyConnection(connection))
            # Alembic would fail with "Can't locate revision", which reads like a bug in Assay.
            _refuse_newer(before)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as error:
        raise ConfigError(f"cannot migrate the database {redact(url)}: {error}") from None
    return before
