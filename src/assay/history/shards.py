"""Splitting a run across CI machines, and putting last run's failures first.

Every machine computes the whole split from the same inputs and keeps its
own part, so the split must be deterministic: no hashing of sets, no
dependence on dict order beyond the input order, ties broken by test id.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from statistics import median

# The duration assumed for every test when no test has a known one.
DEFAULT_DURATION = 1.0


def shard(
    test_ids: Sequence[str],
    durations: Mapping[str, float],
    index: int,
    total: int,
    groups: Iterable[Collection[str]] = (),
) -> list[str]:
    """The tests of shard `index` (1 to `total`), in the order of `test_ids`.

    Tests in a common group (those joined by `needs`; groups that share a test
    are merged) land in the same shard. Shards are filled longest first, each
    unit going to the least loaded shard (the lowest-numbered on a tie), which
    keeps the longest shard within 4/3 of the best possible split of those
    units. A test with
    no known duration counts as the median of the known ones among
    `test_ids`, or as `DEFAULT_DURATION` when none is known.
    """
    if total < 1:
        raise ValueError(f"the number of shards must be at least 1, got {total}")
    if not 1 <= index <= total:
        raise ValueError(f"the shard index must be between 1 and {total}, got {index}")
    weight = _weights(test_ids, durations)
    loads = [0.0] * total
    assigned: dict[str, int] = {}
    units = _units(test_ids, groups)
    # Longest first; equal units in id order, so every machine makes the same choices.
    units.sort(key=lambda unit: (-sum(weight[t] for t in unit), unit[0]))
    for unit in units:
        target = min(range(total), key=lambda i: (loads[i], i))
        loads[target] += sum(weight[t] for t in unit)
        for test_id in unit:
            assigned[test_id] = target
    return [t for t in test_ids if assigned[t] == index - 1]


def last_failed(test_ids: Sequence[str], failed: Collection[str]) -> list[str]:
    """The tests of `test_ids` that are in `failed`, in their order.

    An empty list means none failed; whether to run everything then is the
    caller's decision.
    """
    return [t for t in test_ids if t in failed]


def failed_first(test_ids: Sequence[str], failed: Collection[str]) -> list[str]:
    """All of `test_ids`, those in `failed` first, each part in its original order."""
    return [t for t in test_ids if t in failed] + [t for t in test_ids if t not in failed]


def _weights(test_ids: Sequence[str], durations: Mapping[str, float]) -> dict[str, float]:
    """Each test's expected duration; unknown, negative and non-finite ones are guessed."""
    known = {
        t: durations[t]
        for t in test_ids
        if t in durations and math.isfinite(durations[t]) and durations[t] >= 0
    }
    guess = median(sorted(known.values())) if known else DEFAULT_DURATION
    return {t: known.get(t, guess) for t in test_ids}


def _units(test_ids: Sequence[str], groups: Iterable[Collection[str]]) -> list[tuple[str, ...]]:
    """The tests to place together: merged groups and single tests, each sorted by id.

    Group members that are not among `test_ids` are ignored.
    """
    parent = {t: t for t in test_ids}

    def root(test_id: str) -> str:
        while parent[test_id] != test_id:
            parent[test_id] = parent[parent[test_id]]
            test_id = parent[test_id]
        return test_id

    for group in groups:
        members = sorted(t for t in group if t in parent)
        for other in members[1:]:
            # The smallest id is always the root, so the result does not depend on group order.
            a, b = sorted((root(members[0]), root(other)))
            parent[b] = a
    units: dict[str, list[str]] = {}
    for test_id in sorted(set(test_ids)):
        units.setdefault(root(test_id), []).append(test_id)
    return [tuple(unit) for unit in units.values()]
