"""Writing suite files inline and loading them, for the tests of the test-file format."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from assay import spec
from assay.errors import SpecError
from assay.model import CommandTest

ENVIRON = {"HOME": "/home/ada", "GREETING": "hello", "EMPTY": ""}


class SuiteFiles:
    """Writes YAML into a temporary directory and loads it as `assay run` would."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, text: str | bytes, name: str = "suite.assay.yaml") -> Path:
        """Write a suite file (YAML text is dedented) and return its path."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text))
        return path

    def load(
        self,
        text: str | bytes,
        name: str = "suite.assay.yaml",
        environ: Mapping[str, str] = ENVIRON,
    ) -> list[CommandTest]:
        """The tests of one suite file written from `text`."""
        path = self.write(text, name)
        return spec.load([path], cwd=self.root, environ=environ)

    def one(self, text: str, environ: Mapping[str, str] = ENVIRON) -> CommandTest:
        """The single test of a suite written from `text`."""
        tests = self.load(text, environ=environ)
        assert len(tests) == 1, tests
        return tests[0]

    def problems(
        self,
        text: str | bytes,
        name: str = "suite.assay.yaml",
        environ: Mapping[str, str] = ENVIRON,
    ) -> list[str]:
        """Every problem reported for a suite written from `text`, as `path:line:col: message`."""
        with pytest.raises(SpecError) as caught:
            self.load(text, name, environ)
        return [str(problem) for problem in caught.value.problems]


@pytest.fixture
def suites(tmp_path: Path) -> SuiteFiles:
    """Suite files written under a fresh temporary directory, loaded relative to it."""
    return SuiteFiles(tmp_path)
