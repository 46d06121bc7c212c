"""Alembic migrations of Assay's database.

`HEAD` names the newest revision so that opening the store can tell whether
anything needs migrating with one query, without loading Alembic (which
costs a few hundred milliseconds to import). A test pins it to Alembic's
own idea of the head.
"""

from __future__ import annotations

from pathlib import Path

HEAD = "0002"
LOCATION = Path(__file__).parent
