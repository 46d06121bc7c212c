"""Reading history back: runs, run references, results, samples, one test's history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assay.errors import NotFoundError
from assay.model import Outcome
from assay.store import Store, queries
from fixtures.databases import T0, opened_store, result, write_run

A = "tests/a.assay.yaml::alpha"
B = "tests/a.assay.yaml::beta"
C = "tests/b.assay.yaml::gamma 100%_done"


def _at(minutes: float) -> float:
    return T0.timestamp() + minutes * 60


@pytest.fixture(scope="module")
def three_runs(shared_store: Store) -> list[int]:
    """Runs recorded in the order 1, 2, 3; the last one (an import) started earliest.

    The tests that use them only read, so one database serves them all.
    """
    store = shared_store
    first = write_run(store, [result(A), result(B, "failed")], started_at=_at(10))
    second = write_run(
        store, [result(A), result(B), result(C, "skipped")], started_at=_at(20), branch="feature"
    )
    third = write_run(store, [result(A, "error")], started_at=_at(0), trigger="import")
    return [first, second, third]


def test_runs_are_listed_newest_first(shared_store: Store, three_runs: list[int]) -> None:
    first, second, third = three_runs
    listed = queries.list_runs(shared_store)
    assert [r.id for r in listed] == [second, first, third]
    assert [r.status for r in listed] == ["passed", "failed", "failed"]
    assert (listed[0].total, listed[0].passed, listed[0].skipped) == (3, 2, 1)
    assert listed[0].started_at.timestamp() == _at(20)
    assert listed[0].started_at.tzinfo is not None


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"limit": 1}, [1]),
        ({"status": "failed"}, [0, 2]),
        ({"branch": "feature"}, [1]),
        ({"trigger": "import"}, [2]),
        ({"status": "interrupted"}, []),
    ],
    ids=["limit", "status", "branch", "trigger", "nothing"],
)
def test_runs_can_be_filtered(
    shared_store: Store, three_runs: list[int], filters: dict[str, object], expected: list[int]
) -> None:
    found = queries.list_runs(shared_store, **filters)  # type: ignore[arg-type]
    assert sorted(r.id for r in found) == sorted(three_runs[i] for i in expected)


def test_runs_before_an_id_page_backwards(shared_store: Store, three_runs: list[int]) -> None:
    assert [r.id for r in queries.list_runs(shared_store, before=three_runs[1])] == [three_runs[0]]


@pytest.mark.parametrize(
    ("ref", "index"),
    [("last", 2), ("LAST", 2), (" last~1 ", 1), ("last~2", 0), ("last~0", 2)],
    ids=["last", "upper-case", "last~1", "last~2", "last~0"],
)
def test_run_references(shared_store: Store, three_runs: list[int], ref: str, index: int) -> None:
    # `last` is the run recorded last, although the import says it started first.
    assert queries.resolve_run(shared_store, ref) == three_runs[index]


def test_a_run_id_resolves_to_itself(shared_store: Store, three_runs: list[int]) -> None:
    assert queries.resolve_run(shared_store, str(three_runs[0])) == three_runs[0]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("999", "no run 999 in project 'demo'"),
        ("last~3", "only 3 runs are recorded"),
        ("first", "no run 'first': give a run id, 'last' or 'last~N'"),
        ("last~x", "no run 'last~x'"),
        ("-1", "no run '-1'"),
    ],
    ids=["unknown-id", "too-far-back", "word", "bad-offset", "negative"],
)
def test_bad_run_references(
    shared_store: Store, three_runs: list[int], ref: str, message: str
) -> None:
    with pytest.raises(NotFoundError, match=re.escape(message)):
        queries.resolve_run(shared_store, ref)


def test_an_empty_database_has_no_last_run(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no runs recorded yet"):
        queries.resolve_run(store, "last")


def test_projects_do_not_see_each_others_runs(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    ours = write_run(store, [result(A)])
    with opened_store(database_url, tmp_path, project="other") as other:
        theirs = write_run(other, [result(A, "failed")])
        assert [r.id for r in queries.list_runs(other)] == [theirs]
        assert queries.resolve_run(other, "last") == theirs
        with pytest.raises(NotFoundError, match=f"no run {ours} in project 'other'"):
            queries.get_run(other, ours)
        assert [s.outcome for s in queries.test_history(other, A)] == [Outcome.FAILED]
    assert [r.id for r in queries.list_runs(store)] == [ours]
    assert [s.outcome for s in queries.test_history(store, A)] == [Outcome.PASSED]


def test_results_in_report_order_with_filters(shared_store: Store, three_runs: list[int]) -> None:
    second = three_runs[1]
    assert [r.key for r in queries.results(shared_store, second)] == [A, B, C]
    assert [r.key for r in queries.results(shared_store, second, outcomes=["skipped"])] == [C]
    assert [r.key for r in queries.results(shared_store, second, limit=1, offset=1)] == [B]
    # The search is a plain substring: `%` and `_` are not wildcards.
    assert [r.key for r in queries.results(shared_store, second, search="100%_")] == [C]
    assert queries.results(shared_store, second, search="0%d") == []
    skipped = queries.results(shared_store, second, outcomes=["skipped"], with_attempts=True)[0]
    assert (skipped.reason, skipped.attempts) == ("not today", ())


def test_results_carry_attempts_only_when_asked(store: Store) -> None:
    run_id = write_run(store, [result(A, retried=2)])
    (bare,) = queries.results(store, run_id)
    assert bare.attempts == ()
    (full,) = queries.results(store, run_id, with_attempts=True)
    assert [(a.number, a.outcome) for a in full.attempts] == [
        (1, "failed"),
        (2, "failed"),
        (3, "passed"),
    ]
    assert full.flaky
    assert full.attempts[0].failures == (
        {"expectation": "exit", "message": "exit code 1, expected 0"},
    )
    assert full.attempts[0].started_at == T0


def test_samples_are_oldest_first_and_skip_running_runs(store: Store) -> None:
    late = write_run(store, [result(A, "failed", message="boom 1")], started_at=_at(30))
    early = write_run(store, [result(A), result(B)], started_at=_at(10))
    write_run(store, [result(A, "failed")], started_at=_at(40), finished=False)
    samples = queries.samples(store)
    assert [(s.run_id, s.test_id) for s in samples] == [(early, A), (early, B), (late, A)]
    assert samples[-1].message == "exit: boom 1"
    assert samples[-1].run_failed_ratio == 1.0
    assert samples[0].commit == "c0ffee"
    assert [s.run_id for s in queries.samples(store, runs=1)] == [late]
    assert [s.test_id for s in queries.samples(store, key=B)] == [B]
    assert [s.test_id for s in queries.samples(store, outcomes=queries.BAD)] == [A]


def test_one_tests_history(shared_store: Store, three_runs: list[int]) -> None:
    history = queries.test_history(shared_store, A)
    # Oldest first: the import started before both others.
    assert [s.run_id for s in history] == [three_runs[2], three_runs[0], three_runs[1]]
    assert [s.outcome for s in history] == [Outcome.ERROR, Outcome.PASSED, Outcome.PASSED]
    assert [s.run_id for s in queries.test_history(shared_store, A, limit=1)] == [three_runs[1]]
    with pytest.raises(NotFoundError, match="no test 'nope' in project 'demo'"):
        queries.test_history(shared_store, "nope")


def test_latest_outcomes_ignore_skips(store: Store) -> None:
    write_run(store, [result(A, "failed"), result(B, "failed")], started_at=_at(1))
    write_run(store, [result(A, "skipped"), result(B)], started_at=_at(2))
    assert queries.latest_outcomes(store) == {A: "failed", B: "passed"}


def test_mean_durations(store: Store) -> None:
    write_run(store, [result(A, duration=1.0), result(B, "skipped")], started_at=_at(1))
    write_run(store, [result(A, duration=3.0), result(B, duration=0.5)], started_at=_at(2))
    assert queries.mean_durations(store) == {A: pytest.approx(2.0), B: pytest.approx(0.5)}


def test_row_counts(shared_store: Store, three_runs: list[int]) -> None:
    assert queries.count_rows(shared_store) == {"runs": 3, "results": 6, "artifacts": 0}
