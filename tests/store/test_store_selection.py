"""Selection from history through the Python API: `collect(history=...)` and `assay.run`."""

from __future__ import annotations

from typing import Any

import pytest

import assay
from assay.api import HistorySelection, collect
from assay.store import queries
from fixtures.databases import HistoryProject, unclosed_connections

SUITE = """\
tests:
  - name: base
    run: "true"
  - name: on base
    needs: [base]
    run: test ! -e @ROOT@/broken
  - name: steady
    run: "true"
  - name: wobbly
    run: test ! -e @ROOT@/broken
"""


@pytest.fixture
def failed_once(recorded: HistoryProject) -> HistoryProject:
    """A project whose one recorded run failed `on base` and `wobbly`."""
    recorded.write("sel.assay.yaml", SUITE.replace("@ROOT@", str(recorded.root)))
    (recorded.root / "broken").touch()
    assert not assay.run(settings=recorded.settings()).ok
    (recorded.root / "broken").unlink()
    return recorded


def _names(project: HistoryProject, **selection: Any) -> list[str]:
    # `collect` leaves the store it reads open (see test_store_leaks.py); collect that here.
    with unclosed_connections():
        tests = collect(settings=project.settings(), history=HistorySelection(**selection))
    return [t.name for t in tests]


@pytest.mark.parametrize(
    ("selection", "names"),
    [
        ({}, ["base", "on base", "steady", "wobbly"]),
        ({"last_failed": True}, ["base", "on base", "wobbly"]),
        ({"failed_first": True}, ["on base", "wobbly", "base", "steady"]),
        ({"last_failed": True, "failed_first": True}, ["on base", "wobbly", "base"]),
        ({"shard": (1, 1)}, ["base", "on base", "steady", "wobbly"]),
    ],
    ids=["none", "last-failed", "failed-first", "both", "one-shard"],
)
def test_collect_selects_from_history(
    failed_once: HistoryProject, selection: dict[str, Any], names: list[str]
) -> None:
    assert _names(failed_once, **selection) == names


def test_shards_split_the_last_failed(failed_once: HistoryProject) -> None:
    shards = [_names(failed_once, last_failed=True, shard=(k, 2)) for k in (1, 2)]
    assert sorted(shards) == [["base", "on base"], ["wobbly"]]


def test_run_with_last_failed_records_only_those(failed_once: HistoryProject) -> None:
    with unclosed_connections():
        result = assay.run(last_failed=True, settings=failed_once.settings())
    assert result.ok and result.run_id is not None
    stored = queries.results(failed_once.store(), result.run_id)
    assert [r.name for r in stored] == ["base", "on base", "wobbly"]
    # Those passed now: nothing failed last time, so everything is selected.
    assert _names(failed_once, last_failed=True) == ["base", "on base", "steady", "wobbly"]


def test_without_history_the_selection_keeps_every_test(recorded: HistoryProject) -> None:
    recorded.write("sel.assay.yaml", SUITE.replace("@ROOT@", str(recorded.root)))
    assert _names(recorded, last_failed=True) == ["base", "on base", "steady", "wobbly"]
    assert _names(recorded, failed_first=True) == ["base", "on base", "steady", "wobbly"]
    assert sorted(n for k in (1, 2) for n in _names(recorded, shard=(k, 2))) == [
        "base", "on base", "steady", "wobbly",
    ]  # fmt: skip
