"""Choosing which tests run: `-k`, `-t`, and the dependencies they pull in."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from assay.engine.keywords import compile_keyword
from assay.model import CommandTest


def select(
    tests: Sequence[CommandTest],
    keyword: str | None = None,
    tags: Iterable[str] = (),
    ids: Collection[str] | None = None,
) -> list[CommandTest]:
    """The tests matching `keyword`, any of `tags` and `ids`, plus what they `need`, in file order.

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
        and (ids is None or t.id in ids)
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


def needs_groups(tests: Sequence[CommandTest]) -> list[set[str]]:
    """Ids of tests tied together by `needs`, which must run in the same place (shard)."""
    parent = {t.id: t.id for t in tests}

    def root(test_id: str) -> str:
        while parent[test_id] != test_id:
            parent[test_id] = parent[parent[test_id]]
            test_id = parent[test_id]
        return test_id

    by_name = {(t.suite_file, t.name): t.id for t in tests}
    for test in tests:
        for need in test.needs:
            other = by_name.get((test.suite_file, need))
            if other is not None:
                parent[root(test.id)] = root(other)
    groups: dict[str, set[str]] = {}
    for test in tests:
        groups.setdefault(root(test.id), set()).add(test.id)
    return [g for g in groups.values() if len(g) > 1]
