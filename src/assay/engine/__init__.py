"""Selection, dependency order, concurrency, retries and deadlines; emits events.

The engine knows nothing of terminals, files or databases: everything that
reacts to a run is a `Handler` of its events.
"""

from __future__ import annotations

from assay.engine.runs import Handler, RunOptions, execute
from assay.engine.selection import needs_groups, select

__all__ = ["Handler", "RunOptions", "execute", "needs_groups", "select"]
