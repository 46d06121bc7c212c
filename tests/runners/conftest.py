"""Command tests loaded from real suite files and run by a real `CommandRunner`."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay import spec
from assay.model import Attempt, CommandTest
from assay.runners import CommandRunner, RunnerConfig, Workspaces
from assay.sandbox import Cancellation, ProcessSandbox

# Short grace: the commands here die on TERM, and nothing should wait 2 s for them.
CONFIG = RunnerConfig(grace=0.2, timeout=30.0)


class Runs:
    """Writes suites under `root` and runs their tests' attempts in `root/runs`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / "runs"
        self.runs.mkdir()
        self.count = 0

    def new_run_dir(self) -> Path:
        """A fresh directory for one set of workspaces, as the engine makes per run."""
        self.count += 1
        path = self.runs / f"run-{self.count}"
        path.mkdir()
        return path

    def write(self, text: str, name: str = "suite.assay.yaml") -> Path:
        """Write a suite file (dedented) and return its path."""
        path = self.root / name
        path.write_text(textwrap.dedent(text))
        return path

    def load(self, text: str, name: str = "suite.assay.yaml") -> list[CommandTest]:
        """The tests of a suite file written from `text`."""
        return spec.load([self.write(text, name)], cwd=self.root)

    def one(self, text: str, name: str = "suite.assay.yaml") -> CommandTest:
        """The only test of a suite written from `text`."""
        [test] = self.load(text, name)
        return test

    def attempts(
        self,
        test: CommandTest,
        count: int = 1,
        config: RunnerConfig = CONFIG,
        keep: bool = False,
    ) -> list[Attempt]:
        """Run `count` attempts of `test` one after the other, sharing one set of workspaces."""
        sandbox = ProcessSandbox()
        cancel = Cancellation()
        workspaces = Workspaces(self.new_run_dir(), keep=keep)
        runner = CommandRunner(sandbox, config)
        try:
            return [
                runner.attempt(test, number, workspaces, f"attempt-{number}", cancel)
                for number in range(1, count + 1)
            ]
        finally:
            workspaces.close()
            sandbox.close()
            cancel.close()

    def attempt(self, test: CommandTest, config: RunnerConfig = CONFIG) -> Attempt:
        """Run one attempt of `test`."""
        [attempt] = self.attempts(test, 1, config)
        return attempt


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[Runs]:
    """Suites and runs under a fresh temporary directory."""
    yield Runs(tmp_path)
