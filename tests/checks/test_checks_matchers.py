"""Output matchers over captured text (`assay.checks.check_output`)."""

from __future__ import annotations

import json

import pytest

from assay.checks import Verdict, check_output
from assay.model import Failure, Matcher, MatcherKind, Output

K = MatcherKind


def check(*matchers: Matcher, text: str, ansi: bool = False) -> list[Failure]:
    """The failures of `matchers` over a small, fully captured stdout."""
    verdict = Verdict()
    output = Output(text, len(text.encode()))
    check_output(matchers, output, "stdout", verdict, ansi=ansi)
    assert verdict.notes == []
    return verdict.failures


class TestExact:
    def test_pass(self) -> None:
        assert check(Matcher(K.EXACT, "a\nb\n"), text="a\nb\n") == []

    def test_empty_expected_and_actual(self) -> None:
        assert check(Matcher(K.EXACT, ""), text="") == []

    def test_fail_with_a_unified_diff(self) -> None:
        [failure] = check(Matcher(K.EXACT, "one\ntwo\nthree\n"), text="one\n2\nthree\n")
        assert failure == Failure(
            "stdout",
            "stdout is not exactly as expected",
            diff="--- expected\n+++ actual stdout\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n",
        )

    def test_missing_final_newline_is_marked(self) -> None:
        [failure] = check(Matcher(K.EXACT, "a\nb\n"), text="a\nb")
        assert failure.diff == (
            "--- expected\n"
            "+++ actual stdout\n"
            "@@ -1,2 +1,2 @@\n"
            " a\n"
            "-b\n"
            "+b\n"
            "\\ No newline at end of file\n"
        )

    def test_extra_final_newline_is_marked_on_the_expected_side(self) -> None:
        [failure] = check(Matcher(K.EXACT, "ok"), text="ok\n")
        assert failure.diff == (
            "--- expected\n+++ actual stdout\n@@ -1 +1 @@\n-ok\n\\ No newline at end of file\n+ok\n"
        )

    def test_whitespace_matters(self) -> None:
        assert len(check(Matcher(K.EXACT, "a b\n"), text="a  b\n")) == 1
        assert len(check(Matcher(K.EXACT, "a\n"), text="a\r\n")) == 1


class TestContains:
    def test_contains_pass_and_fail(self) -> None:
        assert check(Matcher(K.CONTAINS, "needle"), text="hay needle hay") == []
        assert check(Matcher(K.CONTAINS, "needle"), text="hay\nhay\n") == [
            Failure(
                "stdout.contains",
                "stdout does not contain 'needle'",
                expected="needle",
                actual="hay\nhay\n",
            )
        ]

    def test_contains_is_case_sensitive(self) -> None:
        assert len(check(Matcher(K.CONTAINS, "Usage"), text="usage: x")) == 1

    def test_contains_across_lines(self) -> None:
        assert check(Matcher(K.CONTAINS, "a\nb"), text="xa\nby") == []

    def test_not_contains_pass_and_fail(self) -> None:
        assert check(Matcher(K.NOT_CONTAINS, "error"), text="all good\n") == []
        assert check(Matcher(K.NOT_CONTAINS, "error"), text="an error\n") == [
            Failure(
                "stdout.not_contains",
                "stdout contains 'error'",
                expected="error",
                actual="an error\n",
            )
        ]

    def test_failure_shows_the_end_of_a_long_output(self) -> None:
        text = "x" * 2500 + "END"
        [failure] = check(Matcher(K.CONTAINS, "needle"), text=text)
        assert failure.actual == "[... 503 characters before ...]\n" + text[-2000:]


class TestMatches:
    def test_search_anywhere(self) -> None:
        assert check(Matcher(K.MATCHES, r"\d+ files?"), text="copied 12 files\n") == []

    def test_anchors_are_per_line(self) -> None:
        text = "first\n-i, --ignore-case  ignore case\nlast\n"
        assert check(Matcher(K.MATCHES, "^-i, --ignore-case"), text=text) == []
        assert check(Matcher(K.MATCHES, "ignore case$"), text=text) == []

    def test_dot_does_not_cross_lines(self) -> None:
        assert len(check(Matcher(K.MATCHES, "first.last"), text="first\nlast\n")) == 1

    def test_fail(self) -> None:
        assert check(Matcher(K.MATCHES, "^x"), text="a\nb\n") == [
            Failure("stdout.matches", "stdout does not match /^x/", expected="^x", actual="a\nb\n")
        ]


class TestEmpty:
    def test_empty_true(self) -> None:
        assert check(Matcher(K.EMPTY, True), text="") == []
        assert check(Matcher(K.EMPTY, True), text="oops\n") == [
            Failure("stdout.empty", "stdout is not empty (5 bytes)", actual="oops\n")
        ]

    def test_empty_counts_bytes_not_characters(self) -> None:
        [failure] = check(Matcher(K.EMPTY, True), text="é")
        assert failure.message == "stdout is not empty (2 bytes)"

    def test_empty_false(self) -> None:
        assert check(Matcher(K.EMPTY, False), text="x") == []
        assert check(Matcher(K.EMPTY, False), text="") == [
            Failure("stdout.empty", "stdout is empty")
        ]

    def test_whitespace_is_not_empty(self) -> None:
        assert len(check(Matcher(K.EMPTY, True), text="\n")) == 1


class TestLines:
    @pytest.mark.parametrize(
        ("text", "count"),
        [("", 0), ("a", 1), ("a\n", 1), ("a\nb\nc\n", 3), ("a\n\nb\n", 3), ("a\r\nb\r\n", 2)],
        ids=["empty", "no-newline", "one", "three", "blank-line", "crlf"],
    )
    def test_count_pass(self, text: str, count: int) -> None:
        assert check(Matcher(K.LINES, count), text=text) == []

    def test_count_fail(self) -> None:
        assert check(Matcher(K.LINES, 2), text="a\nb\nc\n") == [
            Failure("stdout.lines", "stdout has 3 lines, expected 2", expected="2", actual="3")
        ]

    def test_list_pass(self) -> None:
        assert check(Matcher(K.LINES, ("alpha", "beta")), text="alpha\nbeta\n") == []
        assert check(Matcher(K.LINES, ("alpha", "beta")), text="alpha\nbeta") == []

    def test_list_fail_with_a_diff(self) -> None:
        [failure] = check(Matcher(K.LINES, ("a", "b", "c")), text="a\nc\n")
        assert failure == Failure(
            "stdout.lines",
            "stdout lines differ",
            diff="--- expected lines\n+++ actual stdout lines\n@@ -1,3 +1,2 @@\n a\n-b\n c\n",
        )

    def test_empty_list_matches_empty_output(self) -> None:
        assert check(Matcher(K.LINES, ()), text="") == []


class TestJson:
    DOC = json.dumps(
        {
            "name": "assay",
            "count": 3,
            "ok": True,
            "ratio": 0.5,
            "nothing": None,
            "tags": ["a", "b"],
            "items": [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}],
            "nested": {"deeper": {"value": 42, "extra": "ignored"}},
        }
    )

    @pytest.mark.parametrize(
        "expected",
        [
            {},
            {"name": "assay"},
            {"count": 3, "ok": True, "nothing": None},
            {"ratio": 0.5},
            {"nested": {"deeper": {"value": 42}}},
            {"tags": ["a", "b"]},
            {"items": [{"id": 1}, {"name": "two"}]},
            {"items": [{}, {}]},
        ],
        ids=[
            "empty-object",
            "one-key",
            "scalars",
            "float",
            "nested-subset",
            "list-equal",
            "list-of-subsets",
            "list-of-empty-objects",
        ],
    )
    def test_subset_passes(self, expected: object) -> None:
        assert check(Matcher(K.JSON, expected), text=self.DOC) == []

    @pytest.mark.parametrize(
        ("expected", "problem"),
        [
            ({"name": "other"}, "at $.name: expected 'other', got 'assay'"),
            ({"missing": 1}, "at $: missing key 'missing'"),
            ({"nested": {"deeper": {"nope": 1}}}, "at $.nested.deeper: missing key 'nope'"),
            (
                {"nested": {"deeper": {"value": 41}}},
                "at $.nested.deeper.value: expected 41, got 42",
            ),
            ({"tags": ["a"]}, "at $.tags: expected 1 items, got 2"),
            ({"tags": ["b", "a"]}, "at $.tags[0]: expected 'b', got 'a'"),
            ({"items": [{"id": 1}, {"id": 3}]}, "at $.items[1].id: expected 3, got 2"),
            ({"tags": {"a": 1}}, "at $.tags: expected an object, got a list of 2"),
            ({"name": ["assay"]}, "at $.name: expected a list, got the value 'assay'"),
            ({"nothing": 0}, "at $.nothing: expected 0, got None"),
            ({"count": "3"}, "at $.count: expected '3', got 3"),
        ],
        ids=[
            "different-value",
            "missing-key",
            "missing-nested-key",
            "different-nested-value",
            "list-length",
            "list-order",
            "list-of-objects",
            "object-vs-list",
            "list-vs-string",
            "zero-vs-null",
            "string-vs-number",
        ],
    )
    def test_subset_fails(self, expected: object, problem: str) -> None:
        [failure] = check(Matcher(K.JSON, expected), text=self.DOC)
        assert failure.expectation == "stdout.json"
        assert failure.message == f"stdout JSON differs {problem}"

    def test_failure_shows_both_sides_as_json(self) -> None:
        [failure] = check(Matcher(K.JSON, {"a": 1}), text='{"a": 2, "b": [true]}')
        assert failure.expected == '{\n  "a": 1\n}'
        assert failure.actual == '{\n  "a": 2,\n  "b": [\n    true\n  ]\n}'

    def test_true_is_not_one(self) -> None:
        [failure] = check(Matcher(K.JSON, {"a": True}), text='{"a": 1}')
        assert failure.message == "stdout JSON differs at $.a: expected True, got 1"

    @pytest.mark.parametrize(
        ("expected", "text"), [(1, "true"), (0, "false")], ids=["one-vs-true", "zero-vs-false"]
    )
    def test_one_is_not_true(self, expected: int, text: str) -> None:
        assert len(check(Matcher(K.JSON, {"a": expected}), text=f'{{"a": {text}}}')) == 1

    def test_int_equals_float(self) -> None:
        assert check(Matcher(K.JSON, {"a": 1}), text='{"a": 1.0}') == []

    @pytest.mark.parametrize(
        ("expected", "text"),
        [("hi", '"hi"'), (None, "null"), ([1, [2]], "[1, [2]]"), (3, " 3\n")],
        ids=["string", "null", "nested-lists", "whitespace"],
    )
    def test_top_level_values(self, expected: object, text: str) -> None:
        assert check(Matcher(K.JSON, expected), text=text) == []

    @pytest.mark.parametrize(
        ("text", "error"),
        [
            ("not json", "Expecting value: line 1 column 1 (char 0)"),
            ("", "Expecting value: line 1 column 1 (char 0)"),
            ('{"a": 1} trailing', "Extra data: line 1 column 10 (char 9)"),
        ],
        ids=["text", "empty", "trailing-data"],
    )
    def test_invalid_json(self, text: str, error: str) -> None:
        assert check(Matcher(K.JSON, {}), text=text) == [
            Failure("stdout.json", f"stdout is not valid JSON: {error}", actual=text)
        ]

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("$", {"count": 3}),
            ("$.name", "assay"),
            ("$.nested.deeper", {"value": 42}),
            ("$.items[0]", {"id": 1, "name": "one"}),
            ("$.items[1].name", "two"),
            ("$.items[*].id", [1, 2]),
            ("$.items[*]", [{"id": 1}, {"id": 2}]),
            ("$.nested[*]", [{"value": 42}]),
            ("$.tags[*]", ["a", "b"]),
            ("$['nested']['deeper'].value", 42),
        ],
        ids=[
            "root",
            "key",
            "nested",
            "index",
            "index-key",
            "wildcard-key",
            "wildcard-subset",
            "wildcard-over-object",
            "wildcard-scalars",
            "quoted-keys",
        ],
    )
    def test_path_passes(self, path: str, expected: object) -> None:
        assert check(Matcher(K.JSON, expected, path=path), text=self.DOC) == []

    @pytest.mark.parametrize(
        ("path", "expected", "message"),
        [
            ("$.name", "other", "stdout JSON differs at $.name: expected 'other', got 'assay'"),
            (
                "$.items[*].id",
                [1, 3],
                "stdout JSON differs at $.items[*].id[1]: expected 3, got 2",
            ),
            ("$.items[*].id", [1], "stdout JSON differs at $.items[*].id: expected 1 items, got 2"),
            ("$.missing", 1, "stdout JSON has nothing at $.missing: no key 'missing' in an object"),
            ("$.items[5]", 1, "stdout JSON has nothing at $.items[5]: no index 5 in a list of 2"),
            (
                "$.name.first",
                1,
                "stdout JSON has nothing at $.name.first: no key 'first' in the value 'assay'",
            ),
            ("$.count[*]", 1, "stdout JSON has nothing at $.count[*]: [*] applied to the value 3"),
            ("$.nested[0]", 1, "stdout JSON has nothing at $.nested[0]: no index 0 in an object"),
            (
                "$.items[*].nope",
                1,
                "stdout JSON has nothing at $.items[*].nope: no key 'nope' in an object",
            ),
        ],
        ids=[
            "different-value",
            "wildcard-value",
            "wildcard-length",
            "missing-key",
            "index-out-of-range",
            "key-of-a-string",
            "wildcard-of-a-number",
            "index-of-an-object",
            "wildcard-missing-key",
        ],
    )
    def test_path_fails(self, path: str, expected: object, message: str) -> None:
        [failure] = check(Matcher(K.JSON, expected, path=path), text=self.DOC)
        assert failure.message == message


class TestAnsi:
    COLOURED = "\x1b[1;32mok\x1b[0m\n"

    def test_codes_are_kept_by_default(self) -> None:
        assert len(check(Matcher(K.EXACT, "ok\n"), text=self.COLOURED)) == 1
        assert check(Matcher(K.CONTAINS, "\x1b[1;32m"), text=self.COLOURED) == []

    def test_codes_are_stripped_with_ansi(self) -> None:
        assert check(Matcher(K.EXACT, "ok\n"), text=self.COLOURED, ansi=True) == []
        assert check(Matcher(K.MATCHES, "^ok$"), text=self.COLOURED, ansi=True) == []
        assert check(Matcher(K.LINES, ("ok",)), text=self.COLOURED, ansi=True) == []
        assert check(Matcher(K.NOT_CONTAINS, "\x1b"), text=self.COLOURED, ansi=True) == []
        assert check(Matcher(K.JSON, {"a": 1}), text='\x1b[33m{"a": 1}\x1b[0m', ansi=True) == []

    def test_diff_shows_the_stripped_text(self) -> None:
        [failure] = check(Matcher(K.EXACT, "fail\n"), text=self.COLOURED, ansi=True)
        assert failure.diff == "--- expected\n+++ actual stdout\n@@ -1 +1 @@\n-fail\n+ok\n"

    def test_only_codes_is_empty_after_stripping(self) -> None:
        assert check(Matcher(K.EMPTY, True), text="\x1b[0m", ansi=True) == []

    def test_not_empty_counts_the_stripped_bytes(self) -> None:
        [failure] = check(Matcher(K.EMPTY, True), text="\x1b[31mno\x1b[0m", ansi=True)
        assert failure.message == "stdout is not empty (2 bytes)"
        assert failure.actual == "no"


def test_every_matcher_is_applied_and_failures_keep_their_order() -> None:
    failures = check(
        Matcher(K.CONTAINS, "x"),
        Matcher(K.CONTAINS, "a"),
        Matcher(K.EMPTY, True),
        Matcher(K.LINES, 5),
        text="a\n",
    )
    assert [f.expectation for f in failures] == ["stdout.contains", "stdout.empty", "stdout.lines"]


def test_subject_names_the_stream() -> None:
    verdict = Verdict()
    check_output((Matcher(K.CONTAINS, "x"),), Output("", 0), "stderr", verdict)
    assert verdict.failures[0].expectation == "stderr.contains"
    assert verdict.failures[0].message == "stderr does not contain 'x'"


def test_snapshot_without_a_target_is_not_checked() -> None:
    assert check(Matcher(K.SNAPSHOT, ""), text="anything") == []


def test_failures_are_added_to_an_existing_verdict() -> None:
    verdict = Verdict(failures=[Failure("exit", "earlier")])
    check_output((Matcher(K.EMPTY, False),), Output("", 0), "stdout", verdict)
    assert [f.expectation for f in verdict.failures] == ["exit", "stdout.empty"]
