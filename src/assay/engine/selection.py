"""Choosing which tests run: `-k`, `-t`, and the dependencies they pull in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from assay.engine.keywords import compile_keyword
from assay.model import CommandTest


def select(
    tests: Sequence[CommandTest], keyword: str | None = None, tags: Iterable[str] = ()
) -> list[CommandTest]:
    """The tests matching `keyword` and any of `tags`, plus everything they `need`, in file order.

    A test's dependencies run even when they do not match, because a test
    whose `needs` are missing would only be skipped.
    """
    wanted_tags = set(tags)
    predicate = compile_keyword(keyword) if keyword else None
    chosen = {
        i
        for i, t in enumerate(tests)
        if (predicate is None or predicate(f"{t.id} {t.suite}"))
        and (not wanted_tags or wanted_tags & t.tags)
    }
    index = {(t.suite_file, t.name): i for i, t in enumerate(tests)}
    stack = list(chosen)
    while stack:
        test = tests[stack.pop()]
        for need in test.needs:
            j = index.get((test.suite_file, need))
            if j is not None and j not in chosen:
                chosen.add(j)
                stack.append(j)
    return [t for i, t in enumerate(tests) if i in chosen]
