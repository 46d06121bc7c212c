"""The plugin's small pure parts: what a run says it came from, and how results are numbered."""

from __future__ import annotations

import pytest

from assay.pytest_plugin.destinations import command_line
from assay.pytest_plugin.recording import _Numbers


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["-x", "tests/"], "pytest -x tests/"),
        (["--assay-token", "s3cret", "-q"], "pytest --assay-token '***' -q"),
        (["--assay-token=s3cret"], "pytest '--assay-token=***'"),
        (
            ["--assay-db", "postgresql+psycopg://user:pw@db/assay"],
            "pytest --assay-db 'postgresql+psycopg://***@db/assay'",
        ),
        (["-k", "name with spaces"], "pytest -k 'name with spaces'"),
    ],
    ids=["plain", "token", "token-equals", "database-password", "quoted"],
)
def test_the_command_line_keeps_no_secret(args: list[str], shown: str) -> None:
    assert command_line(args) == shown


def test_results_are_numbered_in_collection_order_whenever_they_finish() -> None:
    numbers = _Numbers()
    early = numbers.place("test_broken.py")  # a collection error, before the tests are known

    base = numbers.collected(["a.py::one", "a.py::two", "a.py::two"])

    assert (early, base) == (0, 1)
    assert [numbers.place(i) for i in ("a.py::two", "a.py::one", "a.py::two", "b.py")] == [
        2, 1, 4, 5,
    ]  # fmt: skip
