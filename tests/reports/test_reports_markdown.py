"""The Markdown summary of a stored run: exact output, escaping, and cutting long parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.model import Failure
from assay.reports.document import build_document
from assay.reports.markdown import MESSAGE_CHARS, code, escape, fenced, render_markdown
from assay.store import Store
from fixtures.stored_runs import demo_runs, make_store, record, write_run

THIRD = """\
### Assay run 3 · demo

**`FAILED`** `3 failed` `1 error` `1 timeout` `2 passed` `1 skipped` `1 flaky` · 8 tests in 12.50s

| outcome | tests |
|:--|--:|
| passed | 2 |
| failed | 3 |
| error | 1 |
| timeout | 1 |
| skipped | 1 |
| flaky | 1 |
| **total** | **8** |

Started 2024-05-01 12:20:00 UTC · branch `main` · commit `0123456789ab`

#### New failures (3)

- **failed** `tests/cli.assay.yaml::wrong greeting`
  ```
  stdout: not exactly as expected
  ```
- **error** `tests/api.assay.yaml::missing program`
  ```
  program not found: no-such-program
  ```
- **timeout** `tests/api.assay.yaml::too slow`
  ```
  timed out after 200ms
  ```

#### Still failing (2)

- **failed** `tests/cli.assay.yaml::keeps failing`
  ```
  exit: exit code 1
  ```
- **failed** `` tests/odd.assay.yaml::pipe | and `tick` <b>bold</b> ``
  ````
  stdout: output differs
  ```
  row 0 | `x`
  row 1 | `x`
  row 2 | `x`
  row 3 | `x`
  row 4 | `x`
  row 5 | `x` … (truncated)
  ````

#### Flaky tests (1)

| test | attempts | duration |
|:--|--:|--:|
| `tests/api.assay.yaml::passes on retry` | 2 | 20ms |
"""

FOURTH = """\
### Assay run 4 · demo

**`PASSED`** `2 passed` · 2 tests in 12.50s

| outcome | tests |
|:--|--:|
| passed | 2 |
| failed | 0 |
| error | 0 |
| timeout | 0 |
| skipped | 0 |
| flaky | 0 |
| **total** | **2** |

Started 2024-05-01 12:30:00 UTC · branch `main` · commit `0123456789ab`
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[int]]:
    store = make_store(tmp_path_factory.mktemp("markdown"))
    return store, demo_runs(store)


@pytest.fixture(scope="module")
def third(demo: tuple[Store, list[int]]) -> dict[str, Any]:
    store, runs = demo
    return build_document(store, runs[2])


def test_failed_run(third: dict[str, Any]) -> None:
    assert render_markdown(third) == THIRD


def test_passed_run(demo: tuple[Store, list[int]]) -> None:
    store, runs = demo
    assert render_markdown(build_document(store, runs[3])) == FOURTH


@pytest.mark.parametrize(
    ("limit", "note"),
    [
        (2, "_3 more failures are not listed here (1 new, 2 still failing)._"),
        (4, "_1 more failure is not listed here (1 still failing)._"),
        (0, "_5 more failures are not listed here (3 new, 2 still failing)._"),
    ],
    ids=["within-new", "within-still-failing", "none"],
)
def test_failures_beyond_the_limit_are_counted(
    third: dict[str, Any], limit: int, note: str
) -> None:
    text = render_markdown(third, max_failures=limit)
    assert text.count("\n- **") == limit
    assert note in text
    assert text.index(note) < text.index("#### Flaky tests")


def test_all_failures_fit_without_a_note(third: dict[str, Any]) -> None:
    assert "not listed here" not in render_markdown(third, max_failures=5)


def test_interrupted_run_says_why(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run = write_run(store, [record("a.assay.yaml::x")], branch=None, commit=None)
    connection = store.connect()
    connection.execute(
        "UPDATE runs SET status = 'interrupted', reason = :reason, duration = NULL WHERE id = :id",
        {"reason": "stopped by *Ctrl-C*", "id": run},
    )
    connection.commit()
    connection.close()
    text = render_markdown(build_document(store, run))
    assert text.splitlines()[2] == "**`INTERRUPTED`** `1 passed` · 1 test"
    assert "Started 2024-05-01 12:00:00 UTC\n" in text
    assert "Reason: stopped by \\*Ctrl\\-C\\*\n" in text


def test_names_in_tables_keep_pipes_and_backticks_literal(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    name = "t.assay.yaml::a | b `c` ``d`` <img src=x> *e*"
    run = write_run(store, [record(name, retried=["failed"])])
    text = render_markdown(build_document(store, run))
    row = "| ``` t.assay.yaml::a \\| b `c` ``d`` <img src=x> *e* ``` | 2 | 20ms |"
    assert row in text.splitlines()
    # Every row has the table's three cells: no unescaped pipe splits one.
    table = [line for line in text.splitlines() if line.startswith("| ``` t.assay")]
    assert [line.replace("\\|", "").count("|") for line in table] == [4]


def test_multi_line_names_stay_on_one_line(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run = write_run(store, [record("t.assay.yaml::one\n# two", "failed")])
    text = render_markdown(build_document(store, run))
    assert "- **failed** `t.assay.yaml::one # two`\n" in text
    assert "\n# two" not in text


def test_long_messages_are_cut(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    failure = Failure("stdout", "x" * 1000)
    run = write_run(store, [record("t.assay.yaml::long", "failed", failures=[failure])])
    text = render_markdown(build_document(store, run))
    (line,) = [line for line in text.splitlines() if line.startswith("  stdout: x")]
    assert line == "  " + ("stdout: " + "x" * 1000)[:MESSAGE_CHARS] + " … (truncated)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("a|b", "a\\|b"),
        ("*bold* _it_ `code`", "\\*bold\\* \\_it\\_ \\`code\\`"),
        ("<script>&amp;", "&lt;script\\>&amp;amp;"),
        ("[link](x)", "\\[link\\]\\(x\\)"),
        ("two\nlines", "two lines"),
    ],
    ids=["plain", "pipe", "emphasis", "html", "link", "newline"],
)
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


@pytest.mark.parametrize(
    ("text", "table", "expected"),
    [
        ("a::b", False, "`a::b`"),
        ("a `b` c", False, "`` a `b` c ``"),
        ("``x``", False, "``` ``x`` ```"),
        ("a|b", True, "`a\\|b`"),
        ("a|b", False, "`a|b`"),
    ],
    ids=["plain", "backtick", "double-backtick", "pipe-in-table", "pipe-in-text"],
)
def test_code(text: str, table: bool, expected: str) -> None:
    assert code(text, in_table=table) == expected


def test_fenced_block_outlasts_fences_inside() -> None:
    assert fenced("a\n```\nb") == "````\na\n```\nb\n````"
    assert fenced("short") == "```\nshort\n```"
    many = "\n".join(str(i) for i in range(20))
    assert fenced(many) == "```\n0\n1\n2\n3\n4\n5\n6\n7 … (truncated)\n```"
