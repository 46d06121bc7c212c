"""Comparing a base run with a head run (`assay.history.compare`)."""

from __future__ import annotations

import pytest

from assay.history import Change, Comparison, ResultSummary, Slowdown, compare
from assay.model import Outcome

P, F, E, T, S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.TIMEOUT, Outcome.SKIPPED


def r(test_id: str, outcome: Outcome = P, duration: float = 1.0) -> ResultSummary:
    return ResultSummary(test_id, outcome, duration)


def categories(comparison: Comparison) -> dict[str, list[str]]:
    """The test ids in each non-empty category."""
    found = {
        "new_failures": [c.test_id for c in comparison.new_failures],
        "fixed": [c.test_id for c in comparison.fixed],
        "still_failing": [c.test_id for c in comparison.still_failing],
        "new_tests": [c.test_id for c in comparison.new_tests],
        "removed_tests": [c.test_id for c in comparison.removed_tests],
        "slowdowns": [s.test_id for s in comparison.slowdowns],
    }
    return {name: ids for name, ids in found.items() if ids}


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (P, F, {"new_failures": ["t"]}),
        (P, E, {"new_failures": ["t"]}),
        (P, T, {"new_failures": ["t"]}),
        (S, F, {"new_failures": ["t"]}),
        (None, F, {"new_failures": ["t"], "new_tests": ["t"]}),
        (None, P, {"new_tests": ["t"]}),
        (F, P, {"fixed": ["t"]}),
        (T, P, {"fixed": ["t"]}),
        (F, F, {"still_failing": ["t"]}),
        (F, E, {"still_failing": ["t"]}),
        (F, S, {}),
        (F, None, {"removed_tests": ["t"]}),
        (P, None, {"removed_tests": ["t"]}),
        (P, P, {}),
        (P, S, {}),
        (S, P, {}),
    ],
    ids=[
        "passed-to-failed",
        "passed-to-error",
        "passed-to-timeout",
        "skipped-to-failed",
        "absent-to-failed",
        "absent-to-passed",
        "failed-to-passed",
        "timeout-to-passed",
        "failed-to-failed",
        "failed-to-error",
        "failed-to-skipped",
        "failed-to-absent",
        "passed-to-absent",
        "passed-to-passed",
        "passed-to-skipped",
        "skipped-to-passed",
    ],
)
def test_categories(
    before: Outcome | None, after: Outcome | None, expected: dict[str, list[str]]
) -> None:
    base = [r("t", before)] if before else []
    head = [r("t", after)] if after else []
    assert categories(compare(base, head)) == expected


def test_entries_carry_both_sides() -> None:
    comparison = compare([r("a", P), r("b", F), r("gone", P)], [r("a", F), r("b", P), r("new", P)])
    assert comparison.new_failures == (Change("a", r("a", P), r("a", F)),)
    assert comparison.fixed == (Change("b", r("b", F), r("b", P)),)
    assert comparison.new_tests == (Change("new", None, r("new", P)),)
    assert comparison.removed_tests == (Change("gone", r("gone", P), None),)


def test_order_follows_the_runs() -> None:
    base = [r("z"), r("y"), r("x"), r("gone-2"), r("gone-1")]
    head = [r("x", F), r("z", F), r("y", F), r("new-2"), r("new-1")]
    assert categories(compare(base, head)) == {
        "new_failures": ["x", "z", "y"],
        "new_tests": ["new-2", "new-1"],
        "removed_tests": ["gone-2", "gone-1"],
    }


class TestSlowdowns:
    @pytest.mark.parametrize(
        ("before", "after", "slower"),
        [
            (1.0, 1.5, True),
            (1.0, 1.49, False),
            (0.05, 0.16, True),
            (0.05, 0.14, False),
            (0.01, 0.05, False),
            (0.0, 0.1, True),
            (2.0, 1.0, False),
        ],
        ids=[
            "at-the-ratio",
            "below-the-ratio",
            "above-the-minimum",
            "below-the-minimum",
            "fast-test-five-times-slower",
            "from-zero",
            "faster",
        ],
    )
    def test_thresholds(self, before: float, after: float, slower: bool) -> None:
        comparison = compare([r("t", P, before)], [r("t", P, after)])
        assert bool(comparison.slowdowns) is slower

    def test_custom_thresholds(self) -> None:
        base, head = [r("t", P, 1.0)], [r("t", P, 1.2)]
        assert compare(base, head).slowdowns == ()
        assert compare(base, head, slowdown_ratio=1.2, slowdown_min=0.2).slowdowns == (
            Slowdown("t", r("t", P, 1.0), r("t", P, 1.2)),
        )

    @pytest.mark.parametrize(
        ("before", "after"),
        [(F, F), (P, F), (F, P), (S, P), (P, S)],
        ids=["still-failing", "new-failure", "fixed", "was-skipped", "now-skipped"],
    )
    def test_only_passing_tests_slow_down(self, before: Outcome, after: Outcome) -> None:
        assert compare([r("t", before, 1.0)], [r("t", after, 10.0)]).slowdowns == ()

    def test_most_seconds_lost_first(self) -> None:
        base = [r("a", P, 0.1), r("b", P, 10.0), r("c", P, 1.0), r("d", P, 1.0)]
        head = [r("a", P, 1.0), r("b", P, 20.0), r("c", P, 5.0), r("d", P, 5.0)]
        comparison = compare(base, head)
        assert [s.test_id for s in comparison.slowdowns] == ["b", "c", "d", "a"]
        assert [s.delta for s in comparison.slowdowns] == pytest.approx([10.0, 4.0, 4.0, 0.9])
        assert [s.ratio for s in comparison.slowdowns] == pytest.approx([2.0, 5.0, 5.0, 10.0])

    def test_ratio_from_zero_is_infinite(self) -> None:
        [slowdown] = compare([r("t", P, 0.0)], [r("t", P, 1.0)]).slowdowns
        assert slowdown.ratio == float("inf")

    @pytest.mark.parametrize(
        ("ratio", "minimum", "message"),
        [(0.5, 0.1, "slowdown_ratio"), (1.5, -1.0, "slowdown_min")],
        ids=["ratio-below-one", "negative-minimum"],
    )
    def test_thresholds_are_validated(self, ratio: float, minimum: float, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            compare([], [], slowdown_ratio=ratio, slowdown_min=minimum)


class TestEmpty:
    def test_identical_passing_runs(self) -> None:
        runs = [r("a"), r("b", S)]
        assert compare(runs, runs).empty

    def test_no_runs(self) -> None:
        assert compare([], []).empty
        assert Comparison().empty

    @pytest.mark.parametrize(
        ("base", "head"),
        [
            ([r("a")], [r("a", F)]),
            ([r("a", F)], [r("a")]),
            ([r("a", F)], [r("a", F)]),
            ([], [r("a")]),
            ([r("a")], []),
            ([r("a", P, 1.0)], [r("a", P, 3.0)]),
        ],
        ids=["new-failure", "fixed", "still-failing", "new-test", "removed-test", "slowdown"],
    )
    def test_any_entry_makes_it_non_empty(
        self, base: list[ResultSummary], head: list[ResultSummary]
    ) -> None:
        assert not compare(base, head).empty


def test_a_duplicate_test_id_counts_once_with_its_last_entry() -> None:
    comparison = compare([r("t", F), r("t", P)], [r("t", P), r("t", F)])
    assert comparison.new_failures == (Change("t", r("t", P), r("t", F)),)


def test_accepts_iterators() -> None:
    comparison = compare(iter([r("a")]), (x for x in [r("a", F)]))
    assert categories(comparison) == {"new_failures": ["a"]}


def test_failing_property() -> None:
    assert [r("t", o).failing for o in Outcome] == [False, True, True, True, False]
