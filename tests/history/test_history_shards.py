"""Duration-balanced shards (`assay.history.shard`) and failed-first ordering."""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection, Mapping, Sequence

import pytest

from assay.history import failed_first, last_failed, shard


def split(
    test_ids: Sequence[str],
    durations: Mapping[str, float],
    total: int,
    groups: Sequence[Collection[str]] = (),
) -> list[list[str]]:
    """Every shard, as the CI machines numbered 1 to `total` would each compute its own."""
    return [shard(test_ids, durations, i, total, groups) for i in range(1, total + 1)]


def loads(shards: list[list[str]], durations: Mapping[str, float]) -> list[float]:
    return [sum(durations[t] for t in part) for part in shards]


def best_makespan(durations: Sequence[float], total: int) -> float:
    """The longest shard of the best possible split, by trying every assignment."""
    best = float("inf")
    for assignment in itertools.product(range(total), repeat=len(durations)):
        shard_loads = [0.0] * total
        for d, target in zip(durations, assignment, strict=True):
            shard_loads[target] += d
        best = min(best, max(shard_loads))
    return best


def random_suite(seed: int, size: int) -> tuple[list[str], dict[str, float]]:
    rng = random.Random(seed)
    ids = [f"suite.yaml::test {i:02}" for i in range(size)]
    rng.shuffle(ids)
    return ids, {t: round(rng.uniform(0.01, 30.0), 2) for t in ids}


class TestSplit:
    def test_longest_first_to_the_least_loaded(self) -> None:
        durations = {"a": 5.0, "b": 4.0, "c": 3.0, "d": 3.0, "e": 2.0, "f": 1.0}
        # a→1, b→2, c→2 (7), d→1 (8), e→2 (9), f→1 (9)
        assert split(list("abcdef"), durations, 2) == [["a", "d", "f"], ["b", "c", "e"]]

    def test_keeps_the_input_order(self) -> None:
        durations = {"a": 1.0, "b": 9.0, "c": 1.0, "d": 1.0}
        assert split(["d", "c", "b", "a"], durations, 2) == [["b"], ["d", "c", "a"]]

    @pytest.mark.parametrize("total", [1, 2, 3, 5, 8, 40], ids=lambda n: f"{n}-shards")
    def test_every_test_in_exactly_one_shard(self, total: int) -> None:
        ids, durations = random_suite(seed=total, size=25)
        shards = split(ids, durations, total)
        assert sorted(itertools.chain.from_iterable(shards)) == sorted(ids)
        for part in shards:
            assert part == [t for t in ids if t in part]

    def test_one_shard_is_everything(self) -> None:
        ids, durations = random_suite(seed=1, size=10)
        assert shard(ids, durations, 1, 1) == ids

    def test_more_shards_than_tests_leaves_some_empty(self) -> None:
        assert split(["a", "b"], {"a": 1.0, "b": 2.0}, 4) == [["b"], ["a"], [], []]

    def test_no_tests(self) -> None:
        assert split([], {}, 3) == [[], [], []]

    def test_duplicate_ids_stay_together(self) -> None:
        assert split(["a", "b", "a"], {"a": 1.0, "b": 1.0}, 2) == [["a", "a"], ["b"]]


class TestBalance:
    @pytest.mark.parametrize(
        ("seed", "size", "total"),
        [(seed, 8, total) for seed in range(4) for total in (2, 3)] + [(9, 9, 4)],
        ids=[f"seed-{seed}-{total}-shards" for seed in range(4) for total in (2, 3)]
        + ["nine-tests-4-shards"],
    )
    def test_within_the_lpt_bound(self, seed: int, size: int, total: int) -> None:
        ids, durations = random_suite(seed, size)
        longest = max(loads(split(ids, durations, total), durations))
        optimum = best_makespan(list(durations.values()), total)
        assert longest <= (4 / 3 - 1 / (3 * total)) * optimum + 1e-9

    @pytest.mark.parametrize("total", [2, 4, 7], ids=lambda n: f"{n}-shards")
    def test_within_one_test_of_the_average(self, total: int) -> None:
        ids, durations = random_suite(seed=100 + total, size=200)
        shard_loads = loads(split(ids, durations, total), durations)
        average = sum(durations.values()) / total
        assert max(shard_loads) <= average + max(durations.values())

    def test_equal_durations_spread_evenly(self) -> None:
        ids = [f"t{i}" for i in range(10)]
        assert [len(p) for p in split(ids, dict.fromkeys(ids, 1.0), 3)] == [4, 3, 3]


class TestUnknownDurations:
    def test_count_as_the_median_of_the_known(self) -> None:
        # "new" counts as 3.0: as 1.0 it would join "short", as the mean (11.3) "m" would.
        durations = {"long": 30.0, "m": 3.0, "short": 1.0}
        shards = split(["long", "m", "new", "short"], durations, 3)
        assert shards == [["long"], ["m", "short"], ["new"]]

    def test_only_known_durations_of_these_tests_count(self) -> None:
        # With the other tests' durations the median would be 50.5, and "new" would go first.
        durations = {"a": 1.0, "b": 1.0, "elsewhere": 100.0, "other": 200.0}
        assert split(["a", "b", "new"], durations, 2) == [["a", "new"], ["b"]]

    def test_none_known_means_equal_shares(self) -> None:
        assert split(["e", "d", "c", "b", "a"], {}, 2) == [["e", "c", "a"], ["d", "b"]]

    @pytest.mark.parametrize(
        "bad", [float("nan"), float("inf"), -1.0], ids=["nan", "infinite", "negative"]
    )
    def test_nonsense_durations_are_unknown(self, bad: float) -> None:
        # "b" counts as 4.0, the median of the others.
        durations = {"a": 4.0, "b": bad, "c": 4.0, "d": 1.0}
        assert split(["a", "b", "c", "d"], durations, 2) == [["a", "c"], ["b", "d"]]


class TestGroups:
    def test_a_group_lands_in_one_shard(self) -> None:
        durations = {"a": 5.0, "b": 4.0, "c": 3.0, "d": 3.0, "e": 2.0, "f": 1.0}
        shards = split(list("abcdef"), durations, 2, groups=[{"a", "b"}])
        assert shards == [["a", "b"], ["c", "d", "e", "f"]]

    def test_overlapping_groups_are_merged(self) -> None:
        ids = [f"t{i}" for i in range(8)]
        groups = [["t0", "t5"], ["t5", "t7"], ["t2", "t3"]]
        shards = split(ids, dict.fromkeys(ids, 1.0), 4, groups)
        where = {t: i for i, part in enumerate(shards) for t in part}
        assert where["t0"] == where["t5"] == where["t7"]
        assert where["t2"] == where["t3"]
        assert sorted(itertools.chain.from_iterable(shards)) == sorted(ids)

    def test_members_that_are_not_selected_join_nothing(self) -> None:
        shards = split(["a", "b"], {"a": 1.0, "b": 1.0}, 2, groups=[{"a", "gone"}, {"gone", "b"}])
        assert shards == [["a"], ["b"]]

    @pytest.mark.parametrize("seed", range(5), ids=lambda s: f"seed-{s}")
    def test_random_groups_stay_together(self, seed: int) -> None:
        ids, durations = random_suite(seed, 30)
        rng = random.Random(seed)
        groups = [rng.sample(ids, rng.randint(2, 4)) for _ in range(5)]
        shards = split(ids, durations, 4, groups)
        where = {t: i for i, part in enumerate(shards) for t in part}
        assert len(where) == len(ids)
        for group in groups:
            assert len({where[t] for t in group}) == 1


class TestDeterminism:
    def test_same_split_whatever_the_mapping_and_group_order(self) -> None:
        ids, durations = random_suite(seed=42, size=40)
        groups = [[ids[0], ids[1]], [ids[1], ids[2]], [ids[10], ids[20]]]
        reordered = dict(reversed(list(durations.items())))
        regrouped = [list(reversed(g)) for g in reversed(groups)]
        assert split(ids, reordered, 5, regrouped) == split(ids, durations, 5, groups)

    def test_ties_are_broken_by_id(self) -> None:
        durations = {"b": 1.0, "a": 1.0, "c": 1.0, "d": 1.0}
        assert split(["b", "d", "a", "c"], durations, 2) == [["a", "c"], ["b", "d"]]


@pytest.mark.parametrize(
    ("index", "total", "message"),
    [
        (1, 0, "number of shards must be at least 1, got 0"),
        (0, 3, "shard index must be between 1 and 3, got 0"),
        (4, 3, "shard index must be between 1 and 3, got 4"),
        (-1, 3, "shard index must be between 1 and 3, got -1"),
    ],
    ids=["no-shards", "zero-index", "index-past-total", "negative-index"],
)
def test_index_and_total_are_validated(index: int, total: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shard(["a"], {}, index, total)


class TestFailedFirst:
    IDS = ("a", "b", "c", "d", "e")

    @pytest.mark.parametrize(
        ("failed", "expected"),
        [
            ({"d", "b"}, ["b", "d"]),
            (set(), []),
            ({"gone"}, []),
            (set(IDS), list(IDS)),
        ],
        ids=["some", "none", "only-unknown", "all"],
    )
    def test_last_failed(self, failed: set[str], expected: list[str]) -> None:
        assert last_failed(self.IDS, failed) == expected

    @pytest.mark.parametrize(
        ("failed", "expected"),
        [
            ({"d", "b"}, ["b", "d", "a", "c", "e"]),
            (set(), list(IDS)),
            ({"gone", "e"}, ["e", "a", "b", "c", "d"]),
            (set(IDS), list(IDS)),
        ],
        ids=["some", "none", "unknown-ignored", "all"],
    )
    def test_failed_first(self, failed: set[str], expected: list[str]) -> None:
        assert failed_first(self.IDS, failed) == expected
