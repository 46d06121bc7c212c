"""The report document of a stored run: counts, attempts, failures, logs and history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.errors import NotFoundError
from assay.reports.document import SCHEMA, build_document
from assay.store import Store
from fixtures.stored_runs import (
    DIFF,
    GREETS,
    KEEPS,
    LONG_OUTPUT,
    MISSING,
    ODD,
    RETRY,
    SLOW,
    WRONG,
    demo_runs,
    make_store,
    record,
    write_run,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[int]]:
    store = make_store(tmp_path_factory.mktemp("document"))
    return store, demo_runs(store)


@pytest.fixture(scope="module")
def third(demo: tuple[Store, list[int]]) -> dict[str, Any]:
    store, runs = demo
    return build_document(store, runs[2], artifacts_href="../artifacts")


def result(document: dict[str, Any], test_id: str) -> dict[str, Any]:
    """The result of `test_id` in `document`."""
    found: list[dict[str, Any]] = [r for r in document["results"] if r["id"] == test_id]
    assert len(found) == 1, [r["id"] for r in document["results"]]
    return found[0]


def test_run_and_counts(third: dict[str, Any]) -> None:
    assert third["schema"] == SCHEMA
    assert third["run"] == {
        "id": 3,
        "project": "demo",
        "status": "failed",
        "trigger": "cli",
        "source": None,
        "host": None,
        "branch": "main",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "dirty": None,
        "started_at": "2024-05-01T12:20:00+00:00",
        "duration": 12.5,
        "reason": None,
    }
    assert third["counts"] == {
        "total": 8,
        "passed": 2,
        "failed": 3,
        "error": 1,
        "timeout": 1,
        "skipped": 1,
        "flaky": 1,
    }


def test_document_is_json(third: dict[str, Any]) -> None:
    assert json.loads(json.dumps(third)) == third


def test_failure_details(third: dict[str, Any]) -> None:
    wrong = result(third, WRONG)
    assert wrong["outcome"] == "failed"
    assert wrong["message"] == "stdout: not exactly as expected"
    (attempt,) = wrong["attempts"]
    assert attempt["failures"] == [
        {
            "expectation": "stdout",
            "message": "not exactly as expected",
            "expected": "alpha\nBETA\n",
            "actual": "alpha\nbeta\n",
            "diff": DIFF,
        }
    ]
    assert attempt["stdout"] == {
        "tail": "alpha\nbeta\n",
        "size": 11,
        "complete": True,
        "artifact": None,
        "href": None,
    }


def test_every_attempt_of_a_flaky_result(third: dict[str, Any]) -> None:
    retry = result(third, RETRY)
    assert (retry["outcome"], retry["flaky"]) == ("passed", True)
    assert [(a["number"], a["outcome"]) for a in retry["attempts"]] == [
        (1, "failed"),
        (2, "passed"),
    ]
    assert retry["attempts"][0]["failures"][0]["message"].startswith("exit code 1")


def test_long_log_links_to_its_artifact(
    demo: tuple[Store, list[int]], third: dict[str, Any]
) -> None:
    store, _ = demo
    stdout = result(third, SLOW)["attempts"][0]["stdout"]
    assert stdout["complete"] is False
    assert stdout["size"] == len(LONG_OUTPUT)
    assert LONG_OUTPUT.endswith(stdout["tail"])
    sha = stdout["artifact"]
    assert stdout["href"] == f"../artifacts/{sha[:2]}/{sha}"
    assert store.artifacts.path(sha).read_text() == LONG_OUTPUT


def test_without_artifacts_href_there_are_no_links(demo: tuple[Store, list[int]]) -> None:
    store, runs = demo
    stdout = result(build_document(store, runs[2]), SLOW)["attempts"][0]["stdout"]
    assert stdout["artifact"] is not None
    assert stdout["href"] is None


def test_history_is_the_runs_before_this_one(third: dict[str, Any]) -> None:
    # Run 4 was recorded after run 3: it is not history of run 3.
    assert [r["id"] for r in third["history_runs"]] == [1, 2]
    assert result(third, GREETS)["history"] == ["passed", "passed"]
    assert result(third, RETRY)["history"] == ["passed", "failed"]
    assert result(third, ODD)["history"] == ["failed"]
    assert result(third, SLOW)["history"] == []


def test_history_depth(demo: tuple[Store, list[int]]) -> None:
    store, runs = demo
    latest = build_document(store, runs[3], history=2)
    assert [r["id"] for r in latest["history_runs"]] == [2, 3]
    assert result(latest, WRONG)["history"] == ["passed", "failed"]
    none = build_document(store, runs[3], history=0)
    assert none["history_runs"] == []
    assert all(r["history"] == [] for r in none["results"])


@pytest.mark.parametrize(
    ("test_id", "new"),
    [
        (WRONG, True),
        (MISSING, True),
        (SLOW, True),
        (KEEPS, False),
        (ODD, False),
        (GREETS, False),
    ],
    ids=["passed-before", "error-after-passes", "new-test", "failed-before", "failed-once", "ok"],
)
def test_new_failures(third: dict[str, Any], test_id: str, new: bool) -> None:
    assert result(third, test_id)["new_failure"] is new


def test_first_run_has_no_history(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run = write_run(store, [record(GREETS), record(WRONG, "failed")])
    document = build_document(store, run)
    assert document["history_runs"] == []
    assert [r["new_failure"] for r in document["results"]] == [False, True]


def test_unknown_run(demo: tuple[Store, list[int]]) -> None:
    store, _ = demo
    with pytest.raises(NotFoundError, match="no run 99"):
        build_document(store, 99)
