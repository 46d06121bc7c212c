"""Pages of lists that an analysis computes whole: flaky tests, failure clusters, changes.

Runs and results are paged in the database by keyset cursors; these lists
exist only in memory once analysed, so a page of them is a slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Window:
    """One page of a list that analysis made whole in memory (flaky tests, clusters, changes)."""

    items: list[Any]
    page: int
    pages: int
    total: int
    first: int = 0

    @classmethod
    def of(cls, items: list[Any], page: int, size: int) -> Window:
        """The `page`-th (1-based) slice of `size` items; past the end, the last page."""
        pages = max(1, -(-len(items) // size))
        page = min(max(page, 1), pages)
        start = (page - 1) * size
        return cls(items[start : start + size], page, pages, len(items), start)
