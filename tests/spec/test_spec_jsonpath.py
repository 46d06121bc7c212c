"""The small JSONPath dialect of `json` matchers (`assay.model.jsonpath`)."""

from __future__ import annotations

import pytest

from assay.model.jsonpath import WILDCARD, parse_path


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("$", ()),
        ("$.a", ("a",)),
        ("$.a.b_c.d-e", ("a", "b_c", "d-e")),
        ("$.items[0]", ("items", 0)),
        ("$.items[12].name", ("items", 12, "name")),
        ("$[*]", (WILDCARD,)),
        ("$.items[*].id", ("items", WILDCARD, "id")),
        ("$['odd key']", ("odd key",)),
        ('$["with.dots"].x', ("with.dots", "x")),
        ("$[0][1]", (0, 1)),
        ("$._private", ("_private",)),
    ],
    ids=[
        "root",
        "key",
        "nested-keys",
        "index",
        "index-then-key",
        "wildcard",
        "wildcard-in-middle",
        "single-quoted-key",
        "double-quoted-key",
        "nested-indexes",
        "underscore",
    ],
)
def test_parse_path(path: str, steps: tuple[object, ...]) -> None:
    assert parse_path(path) == steps


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a.b", "JSONPath must start with '$': 'a.b'"),
        ("", "JSONPath must start with '$': ''"),
        (".a", "JSONPath must start with '$': '.a'"),
        ("$..a", "invalid JSONPath '$..a' at offset 1"),
        ("$.a[", "invalid JSONPath '$.a[' at offset 3"),
        ("$.a[0", "invalid JSONPath '$.a[0' at offset 3"),
        ("$[-1]", "invalid JSONPath '$[-1]' at offset 1"),
        ("$.1a", "invalid JSONPath '$.1a' at offset 1"),
        ("$ .a", "invalid JSONPath '$ .a' at offset 1"),
        ("$a", "invalid JSONPath '$a' at offset 1"),
        ("$.a[?(@.x)]", "invalid JSONPath '$.a[?(@.x)]' at offset 3"),
        ("$['']", "invalid JSONPath \"$['']\" at offset 1"),
    ],
    ids=[
        "no-dollar",
        "empty",
        "leading-dot",
        "recursive-descent",
        "open-bracket",
        "unclosed-index",
        "negative-index",
        "digit-key",
        "space",
        "no-dot",
        "filter",
        "empty-quoted-key",
    ],
)
def test_parse_path_rejects(path: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_path(path)
    assert str(caught.value) == message
