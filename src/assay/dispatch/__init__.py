"""Where a run executes: the `Dispatcher` interface and its in-process pool.

The server hands every run it starts to a dispatcher. `InProcessPool` runs
them on threads of the server's own process; a worker fleet (Celery) can
stand behind the same interface.
"""

from __future__ import annotations

from assay.dispatch.pool import InProcessPool
from assay.dispatch.requests import Dispatcher, RunRequest, Suites

__all__ = ["Dispatcher", "InProcessPool", "RunRequest", "Suites"]
