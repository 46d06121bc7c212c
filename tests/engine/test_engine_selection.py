"""`select` (-k and -t, with the dependencies they pull in) and `-k` keyword expressions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from assay.engine import select
from assay.engine.keywords import compile_keyword
from assay.errors import UsageError
from assay.model import CommandTest, Outcome

if TYPE_CHECKING:
    from conftest import Scratch

SUITE = """
    suite: grep basics
    tests:
      - {name: finds a line, run: "true", tags: [smoke]}
      - {name: no match exits 1, run: "true", tags: [slow]}
      - {name: help mentions usage, run: "true", tags: [smoke, docs]}
      - {name: needs a line, run: "true", needs: [finds a line], tags: [dependent]}
      - {name: chain end, run: "true", needs: [needs a line]}
    """


@pytest.fixture
def tests(scratch: Scratch) -> list[CommandTest]:
    return scratch.load(SUITE, name="grep.assay.yaml")


def chosen(
    tests: list[CommandTest], keyword: str | None = None, tags: tuple[str, ...] = ()
) -> list[str]:
    return [t.name for t in select(tests, keyword, tags)]


ALL = ["finds a line", "no match exits 1", "help mentions usage", "needs a line", "chain end"]


@pytest.mark.parametrize(
    ("keyword", "tags", "expected"),
    [
        (None, (), ALL),
        ("", (), ALL),
        ("usage", (), ["help mentions usage"]),
        ("FINDS", (), ["finds a line"]),
        ("finds a line", (), ["finds a line"]),
        ("grep basics", (), ALL),
        ("grep.assay.yaml::no", (), ["no match exits 1"]),
        (None, ("smoke",), ["finds a line", "help mentions usage"]),
        (None, ("smoke", "slow"), ["finds a line", "no match exits 1", "help mentions usage"]),
        ("usage", ("smoke",), ["help mentions usage"]),
        ("usage", ("slow",), []),
        (None, ("no-such-tag",), []),
        ("nothing matches this", (), []),
    ],
    ids=[
        "everything",
        "empty-keyword",
        "substring",
        "case-insensitive",
        "with-spaces",
        "suite-name",
        "test-id",
        "one-tag",
        "any-of-tags",
        "keyword-and-tag",
        "keyword-and-other-tag",
        "unknown-tag",
        "no-match",
    ],
)
def test_select(
    tests: list[CommandTest], keyword: str | None, tags: tuple[str, ...], expected: list[str]
) -> None:
    assert chosen(tests, keyword, tags) == expected


@pytest.mark.parametrize(
    ("keyword", "tags", "expected"),
    [
        ("needs a line", (), ["finds a line", "needs a line"]),
        ("chain end", (), ["finds a line", "needs a line", "chain end"]),
        (None, ("dependent",), ["finds a line", "needs a line"]),
    ],
    ids=["direct-need", "transitive-needs", "by-tag"],
)
def test_dependencies_are_pulled_in_in_file_order(
    tests: list[CommandTest], keyword: str | None, tags: tuple[str, ...], expected: list[str]
) -> None:
    assert chosen(tests, keyword, tags) == expected


def test_pulled_in_dependencies_run_first(scratch: Scratch, tests: list[CommandTest]) -> None:
    result = scratch.run(select(tests, "chain end"))
    assert [r.test.name for r in result.results] == ["finds a line", "needs a line", "chain end"]
    assert [r.outcome for r in result.results] == [Outcome.PASSED] * 3


def test_needs_are_resolved_within_their_own_suite(scratch: Scratch) -> None:
    first = scratch.load(
        "tests: [{name: setup, run: 'true'}, {name: a, run: 'true'}]", "a.assay.yaml"
    )
    second = scratch.load(
        "tests: [{name: setup, run: 'true'}, {name: b, run: 'true', needs: [setup]}]",
        "b.assay.yaml",
    )
    picked = select([*first, *second], "b.assay.yaml::b")
    assert [t.id for t in picked] == ["b.assay.yaml::setup", "b.assay.yaml::b"]


TEXT = "tests/cli.assay.yaml::grep finds a line grep basics"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("finds", True),
        ("FINDS A LINE", True),
        ("finds a line", True),
        ("finds  a line", False),
        ("line finds", False),
        ("finds and line", True),
        ("finds and missing", False),
        ("finds or missing", True),
        ("missing or absent", False),
        ("not missing", True),
        ("not finds", False),
        ("NOT finds OR grep", True),
        ("finds and not (missing or absent)", True),
        ("(finds or missing) and (absent or line)", True),
        ("(finds or missing) and (absent or nothing)", False),
        ("not not finds", True),
        ('"finds a line" and grep', True),
        ("'a line' and not 'no line'", True),
        ('"grep line" or absent', False),
        ('"OR"', False),
        ("android", False),
        ("cli.assay.yaml::grep", True),
        ("a or b and c", True),
        ("missing or finds and absent", False),
    ],
    ids=[
        "substring",
        "case-insensitive",
        "spaces",
        "spaces-are-exact",
        "order-matters",
        "and",
        "and-false",
        "or",
        "or-false",
        "not",
        "not-false",
        "uppercase-operators",
        "not-parentheses",
        "two-groups",
        "two-groups-false",
        "double-not",
        "double-quoted",
        "single-quoted",
        "quoted-false",
        "quoted-operator",
        "operator-prefix-is-a-word",
        "path-with-colons",
        "and-binds-tighter",
        "and-binds-tighter-false",
    ],
)
def test_keyword_expressions(expression: str, expected: bool) -> None:
    assert compile_keyword(expression)(TEXT) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "finds and",
        "or finds",
        "not",
        "finds and or line",
        "(finds",
        "finds)",
        "()",
        "finds (line)",
        "and",
        '"unbalanced',
        "it's",
        "finds and line extra",
    ],
    ids=[
        "trailing-and",
        "leading-or",
        "lone-not",
        "two-operators",
        "unclosed-parenthesis",
        "stray-parenthesis",
        "empty-parentheses",
        "word-then-group",
        "lone-and",
        "unbalanced-double-quote",
        "unbalanced-single-quote",
        "trailing-word",
    ],
)
def test_bad_keyword_expressions_are_usage_errors(expression: str) -> None:
    with pytest.raises(UsageError, match=r"^-k: "):
        compile_keyword(expression)


def test_select_reports_a_bad_keyword(tests: list[CommandTest]) -> None:
    with pytest.raises(UsageError):
        select(tests, "finds and")
