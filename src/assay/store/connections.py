"""Connections to Assay's database, with one small interface for both backends.

Writes during a run go through plain SQL with `:name` parameters, which the
standard library's `sqlite3` and SQLAlchemy's `text()` both understand. For
the default SQLite database this keeps SQLAlchemy (about 180 ms to import)
off the path of `assay run`, whose whole budget for a one-test run is 150 ms;
PostgreSQL goes through SQLAlchemy and psycopg.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from assay.errors import ConfigError

Params = Mapping[str, Any]

# WAL lets readers (`assay runs`) work while a run records; NORMAL is durable
# across process crashes in WAL mode, which is the failure that matters here.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA temp_store=MEMORY",
)


class Connection(Protocol):
    """The little a writer needs: statements, batches, queries and transactions."""

    dialect: str

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run one statement."""
        ...

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement for each parameter set."""
        ...

    def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return every row."""
        ...

    def commit(self) -> None:
        """Commit the open transaction."""
        ...

    def rollback(self) -> None:
        """Roll back the open transaction."""
        ...

    def close(self) -> None:
        """Close the connection (rolling back anything uncommitted)."""
        ...


class SqliteConnection:
    """A `Connection` over the standard library's sqlite3."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.raw = sqlite3.connect(path, timeout=30, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                self.raw.execute(pragma)
        except sqlite3.Error as error:
            raise ConfigError(f"cannot open the database {path}: {error}") from None

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run one statement."""
        self.raw.execute(sql, params or {})

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement for each parameter set."""
        if rows:
            self.raw.executemany(sql, rows)

    def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return every row."""
        return self.raw.execute(sql, params or {}).fetchall()

    def commit(self) -> None:
        """Commit the open transaction."""
        self.raw.commit()

    def rollback(self) -> None:
        """Roll back the open transaction."""
        self.raw.rollback()

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()


class AlchemyConnection:
    """A `Connection` over a SQLAlchemy connection (PostgreSQL, or SQLite in tests)."""

    def __init__(self, connection: Any) -> None:
        self.raw = connection
        self.dialect = str(connection.dialect.name)

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run one statement."""
        from sqlalchemy import text

        self.raw.execute(text(sql), dict(params or {}))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement for each parameter set (batched by the driver)."""
        from sqlalchemy import text

        if rows:
            self.raw.execute(text(sql), [dict(r) for r in rows])

    def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return every row."""
        from sqlalchemy import text

        return [tuple(row) for row in self.raw.execute(text(sql), dict(params or {}))]

    def commit(self) -> None:
        """Commit the open transaction."""
        self.raw.commit()

    def rollback(self) -> None:
        """Roll back the open transaction."""
        self.raw.rollback()

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()


def sqlite_path(url: str) -> Path | None:
    """The file behind a `sqlite:///` URL, or None for other databases."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            return Path(url.removeprefix(prefix))
    return None


def engine_for(url: str) -> Any:
    """A SQLAlchemy engine for `url`, with Assay's SQLite pragmas applied on connect."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # A server reads on up to 40 threads (its thread pool) at once. SQLAlchemy's
        # default pool keeps 5 connections and closes any more after each use, and a
        # new SQLite connection starts with a cold page cache and sets its pragmas
        # again: under load that churn cost more than the queries. SQLite answers a
        # page of results in about 0.1 ms, so a few connections that stay open (the
        # rest of the threads wait their turn) serve more requests than many do.
        pooling = {"pool_size": 4, "max_overflow": 0} if path is not None else {}
        engine = create_engine(url, pool_pre_ping=path is None, **pooling)
    except (ArgumentError, NoSuchModuleError) as error:
        raise ConfigError(f"invalid database URL {redact(url)!r}: {error}") from None
    except ImportError as error:
        raise ConfigError(
            f"no driver for {redact(url)!r}: {error} (install assay[postgres] for PostgreSQL)"
        ) from None
    if path is not None:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            for pragma in SQLITE_PRAGMAS:
                dbapi_connection.execute(pragma)

    return engine


def redact(url: str) -> str:
    """`url` with any user and password hidden, for messages: a URL may carry a secret."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


def host_pid() -> tuple[str, int]:
    """This machine's name and this process's id, which mark a run as ours."""
    return os.uname().nodename, os.getpid()
