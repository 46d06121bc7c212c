"""Assay's own database: the only package that touches it.

SQLite by default (`.assay/assay.db`, WAL), PostgreSQL by URL. Runs are
written by the `Recorder` (an engine event handler) and by importers through
`writes`; they are read through the queries in `queries`.
"""

from __future__ import annotations

from assay.store.artifacts import ArtifactStore
from assay.store.recorder import Recorder
from assay.store.store import Store, default_url

__all__ = ["ArtifactStore", "Recorder", "Store", "default_url"]
