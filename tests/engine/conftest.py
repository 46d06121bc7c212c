"""Suites written to disk, run by the real engine, with every event recorded.

Ordering and concurrency are checked from files the tests write themselves
(a shared log of `S name` / `E name` lines), never from how long anything took.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from assay import spec
from assay.engine import RunOptions, execute
from assay.model import CommandTest, Event, RunResult
from assay.runners import RunnerConfig

# Only a safety net for a hung command; the commands here end on their own or on TERM.
RUNNER = RunnerConfig(grace=0.2, timeout=60.0)

# Appends `S <name>` to the log, waits until at least <quorum> tests have started
# (or about ten seconds have passed), then appends `E <name>`. Only shell builtins
# read the log, so a hundred of these at once stay cheap.
BARRIER = """\
log="$1"; name="$2"; quorum="$3"
echo "S $name" >> "$log"
i=0
while [ "$i" -lt 200 ]; do
  n=0
  while read -r kind _rest; do
    if [ "$kind" = S ]; then n=$((n + 1)); fi
  done < "$log"
  if [ "$n" -ge "$quorum" ]; then break; fi
  sleep 0.05
  i=$((i + 1))
done
echo "E $name" >> "$log"
"""


class Recorder:
    """A handler that keeps every event and the thread it arrived on."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.threads: set[int] = set()

    def handle(self, event: Event) -> None:
        self.events.append(event)
        self.threads.add(threading.get_ident())


class Scratch:
    """Suite files under `root`; runs put their temporary directories in `root/runs`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / "runs"
        self.runs.mkdir()
        self.log = root / "log"
        self.log.touch()
        self.barrier = root / "barrier.sh"
        self.barrier.write_text(BARRIER)
        self.recorder = Recorder()

    def load(self, text: str, name: str = "suite.assay.yaml") -> list[CommandTest]:
        """The tests of a suite file written from `text` (dedented)."""
        path = self.root / name
        path.write_text(textwrap.dedent(text))
        return spec.load([path], cwd=self.root)

    def load_tests(self, tests: Sequence[dict[str, Any]], **suite: Any) -> list[CommandTest]:
        """The tests of a suite file generated from plain data."""
        return self.load(yaml.safe_dump({**suite, "tests": list(tests)}, sort_keys=False))

    def barrier_test(self, name: str, quorum: int, **keys: Any) -> dict[str, Any]:
        """A test that logs its start, waits for `quorum` starts in all, then logs its end."""
        return {
            "name": name,
            "run": ["sh", str(self.barrier), str(self.log), name, str(quorum)],
            **keys,
        }

    def run(
        self,
        tests: Sequence[CommandTest],
        jobs: int | None = 2,
        *,
        timeout: float | None = None,
        keep_tmp: bool = False,
        runner: RunnerConfig = RUNNER,
    ) -> RunResult:
        """Execute `tests` with the real engine and sandbox; `recorder` gets its events."""
        options = RunOptions(
            jobs=jobs, timeout=timeout, keep_tmp=keep_tmp, tmp_dir=self.runs, runner=runner
        )
        self.recorder = Recorder()
        return execute(tests, options, [self.recorder])

    @property
    def events(self) -> list[Event]:
        """The events of the last run."""
        return self.recorder.events

    def log_lines(self) -> list[str]:
        """The lines tests appended to the shared log, in the order they were written."""
        return self.log.read_text().splitlines()

    def max_overlap(self) -> int:
        """The most tests that had logged their start but not yet their end, at any point."""
        running = highest = 0
        for line in self.log_lines():
            kind, _name = line.split(" ", 1)
            running += 1 if kind == "S" else -1
            highest = max(highest, running)
        return highest


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    """A fresh directory for suites, their logs and the run's temporary directories."""
    yield Scratch(tmp_path)
