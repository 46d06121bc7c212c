"""The store: where Assay's database and artifacts are, opened and kept current."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.errors import ConfigError
from assay.store.artifacts import ArtifactStore
from assay.store.connections import (
    AlchemyConnection,
    Connection,
    SqliteConnection,
    engine_for,
    host_pid,
    redact,
    sqlite_path,
)


def default_url(root: Path) -> str:
    """The embedded default: a SQLite file under `<root>/.assay/`."""
    return f"sqlite:///{root / '.assay' / 'assay.db'}"


@dataclass
class Store:
    """Assay's database (by URL) and artifact store, for one project.

    Opening a connection for the first time migrates the schema if needed
    and marks runs whose recording process died as `interrupted`.
    """

    url: str
    artifacts_dir: Path
    project: str
    _ready: bool = field(default=False, repr=False)
    _engine: Any = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def artifacts(self) -> ArtifactStore:
        """The content-addressed files (full logs, screenshots, reports)."""
        return ArtifactStore(self.artifacts_dir)

    @property
    def engine(self) -> Any:
        """A SQLAlchemy engine for queries, on a current schema (created on first use)."""
        with self._reachable():
            engine = self._raw_engine()
            if not self._ready:
                with engine.connect() as raw:
                    self._prepare(AlchemyConnection(raw))
        return engine

    @contextlib.contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turn a database that cannot be reached into a `ConfigError` naming it."""
        import sqlite3

        try:
            yield
        except (sqlite3.Error, OSError) as error:  # OSError: e.g. no directory for the file
            raise ConfigError(f"cannot use the database {redact(self.url)}: {error}") from None
        except Exception as error:
            if type(error).__module__.startswith(("sqlalchemy", "psycopg")):
                reason = str(getattr(error, "orig", None) or error).splitlines()[0]
                raise ConfigError(f"cannot use the database {redact(self.url)}: {reason}") from None
            raise

    def _raw_engine(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = engine_for(self.url)
        return self._engine

    def connect(self) -> Connection:
        """A connection for writing, on a current schema."""
        path = sqlite_path(self.url)
        connection: Connection
        with self._reachable():
            if path is not None:
                connection = SqliteConnection(path)
            else:
                connection = AlchemyConnection(self._raw_engine().connect())
            try:
                self._prepare(connection)
            except BaseException:
                connection.close()
                raise
        return connection

    def upgrade(self) -> tuple[str | None, str]:
        """Apply pending migrations now; returns the revisions before and after."""
        from assay.store.migrations import HEAD
        from assay.store.schema import upgrade

        with self._reachable():
            before = upgrade(self.url, self._raw_engine())
        return before, HEAD

    def _prepare(self, connection: Connection) -> None:
        with self._lock:
            if self._ready:
                return
            from assay.store.schema import is_current
            from assay.store.writes import mark_interrupted

            if not is_current(connection):
                connection.rollback()
                from assay.store.schema import upgrade

                upgrade(self.url, self._raw_engine())
            mark_interrupted(connection, host_pid()[0])
            connection.commit()
            self._ready = True

    def close(self) -> None:
        """Release pooled connections."""
        if self._engine is not None:
            self._engine.dispose()
