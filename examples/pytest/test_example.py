"""A small pytest suite with nothing but the standard library: record it with `pytest --assay`.

Every test passes or is skipped on purpose, so the recorded run passes; see
README.md for what Assay makes of each one.
"""

import json
import sys

import pytest


def test_round_trip():
    document = {"name": "assay", "tags": ["pytest", "history"]}
    assert json.loads(json.dumps(document)) == document


@pytest.mark.parametrize(
    ("text", "words"),
    [("", 0), ("one", 1), ("one two  three", 3)],
    ids=["empty", "one-word", "three-words"],
)
def test_word_count(text, words):
    assert len(text.split()) == words


@pytest.fixture
def numbers(tmp_path):
    path = tmp_path / "numbers.txt"
    path.write_text("3\n1\n2\n")
    return path


def test_sorts_a_file(numbers):
    values = sorted(int(line) for line in numbers.read_text().splitlines())
    print("sorted:", values)  # captured, and kept with the result
    assert values == [1, 2, 3]


class TestStrings:
    def test_upper(self):
        assert "assay".upper() == "ASSAY"

    def test_strip(self):
        assert "  assay\n".strip() == "assay"


@pytest.mark.skip(reason="shows how a skip is recorded")
def test_skipped():
    raise AssertionError("never runs")


@pytest.mark.skipif(sys.platform != "win32", reason="needs Windows")
def test_only_on_windows():
    assert sys.platform == "win32"


@pytest.mark.xfail(reason="int() does not read words yet", raises=ValueError)
def test_known_bug():
    assert int("three") == 3
