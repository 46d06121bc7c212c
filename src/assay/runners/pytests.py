"""The runner for `pytest:` tests: an existing pytest suite, one result per pytest test.

A `pytest:` test is expanded before the run: `pytest --collect-only` lists
its tests, and each becomes a test of the run whose id is pytest's node id.
Those tests then run together, in one pytest process per attempt, and
Assay's probe (`pytest_probe/assay_probe.py`, copied into the work directory
and loaded with `-p`) writes every report as a JSON line, which the report
log reader folds into attempts. A retry runs only the tests that failed.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from assay.checks import Verdict
from assay.errors import ReportFormatError
from assay.importers import ImportStats, read_reportlog
from assay.model import Attempt, CommandTest, Expectations, Failure, FileSpec, Location, Outcome
from assay.runners.command import CommandRunner, RunnerConfig, Started, stopped
from assay.runners.workspace import Workspace, Workspaces
from assay.sandbox import Cancellation, ProcessOutcome, ProcessRequest, Sandbox, wait
from assay.spec.interpolation import Scope, interpolate

PROBE = Path(__file__).with_name("pytest_probe") / "assay_probe.py"
PROBE_DIR = ".assay-probe"
REPORTS = f"{PROBE_DIR}/reports.jsonl"
_TAIL = 4000


@dataclass(frozen=True, slots=True)
class Reported:
    """What pytest reported of one test: its attempts and, if skipped, why."""

    attempts: tuple[Attempt, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Collected:
    """What `pytest --collect-only` found: the tests, or why there are none."""

    tests: tuple[CommandTest, ...] = ()
    error: Attempt | None = None


class PytestRunner(CommandRunner):
    """Collects and runs the tests of `pytest:` tests through the sandbox."""

    def __init__(self, sandbox: Sandbox, config: RunnerConfig) -> None:
        super().__init__(sandbox, config)
        self.roots: dict[str, Path] = {}  # group -> pytest's root directory

    def collect(
        self, test: CommandTest, workspaces: Workspaces, name: str, cancel: Cancellation
    ) -> Collected:
        """The tests that `test`'s pytest command line selects, each its own test."""
        assert test.pytest is not None
        command = self._command(test, ("--collect-only", "-q", *test.pytest.args), 1)
        started = self.start(command, 1, workspaces, name)
        if isinstance(started, Attempt):
            return Collected(error=started)
        assert started.execution is not None
        outcome = wait(started.execution, cancel)
        try:
            items, root = _items(started.workspace.workdir / REPORTS)
            if outcome.error or outcome.stopped or outcome.exit_code != 0 or not items:
                return Collected(error=self._collect_error(started, outcome, cancel))
        finally:
            started.workspace.close()
        root = self.roots[test.id] = root or test.suite_file.parent
        return Collected(tests=tuple(_child(test, item, root) for item in items))

    def start_group(
        self,
        tests: Sequence[CommandTest],
        number: int,
        workspaces: Workspaces,
        name: str,
        services: Mapping[str, str] | None = None,
        everything: bool = False,
    ) -> Started | Attempt:
        """Start one pytest process for `tests` (tests of one `pytest:` test).

        With `everything`, pytest gets the `pytest:` test's own arguments
        (they select exactly these tests); otherwise only their node ids (a
        retry: the arguments' options, such as `-k`, are not repeated).
        """
        first = tests[0]
        assert first.pytest is not None and first.group is not None
        if everything:
            scope = Scope({"services": services or {}})
            selection = tuple(interpolate(a, scope)[0] for a in first.pytest.args)
        else:
            root = self.roots.get(first.group, first.suite_file.parent)
            selection = tuple(str(root / t.id) for t in tests)
        command = self._command(first, selection, len(tests))
        return self.start(command, number, workspaces, name, services)

    def finish_group(
        self,
        started: Started,
        tests: Sequence[CommandTest],
        outcome: ProcessOutcome,
        cancel: Cancellation | None,
    ) -> dict[str, Reported]:
        """Each test's attempts in this pytest process (several with pytest-rerunfailures)."""
        workspace = started.workspace
        try:
            reported = _reported(workspace.workdir / REPORTS)
            if any(t.id not in reported for t in tests):
                absent = Reported((self._absent(started, outcome, cancel),))
                return {t.id: reported.get(t.id, absent) for t in tests}
            return {t.id: reported[t.id] for t in tests}
        finally:
            workspace.close()

    def _command(self, test: CommandTest, args: tuple[str, ...], count: int) -> CommandTest:
        """The command test that runs pytest with `args` for `count` tests of `test`."""
        assert test.pytest is not None
        suite_dir = test.suite_file.parent
        python = test.pytest.python or sys.executable
        if "/" in python and not os.path.isabs(python):
            python = str(suite_dir / python)
        cwd = str(suite_dir / test.cwd) if test.cwd else str(suite_dir)
        budget = test.timeout or (self.config.timeout and self.config.timeout * count)
        return replace(
            test,
            run=(
                python,
                "-m",
                "pytest",
                "-p",
                "assay_probe",
                "-p",
                "no:assay",
                "-p",
                "no:cacheprovider",
                *args,
            ),
            cwd=cwd,
            stdin=None,
            files=(FileSpec(f"{PROBE_DIR}/assay_probe.py", _probe()),),
            timeout=budget,
            expect=Expectations(),
            node=None,
            pytest=None,
        )

    def _request(self, test: CommandTest, workspace: Workspace) -> ProcessRequest:
        request = super()._request(test, workspace)
        probe = workspace.workdir / PROBE_DIR
        path = request.env.get("PYTHONPATH")
        env = {
            **request.env,
            "PYTHONPATH": f"{probe}{os.pathsep}{path}" if path else str(probe),
            "ASSAY_PROBE_OUT": str(workspace.workdir / REPORTS),
        }
        return replace(request, env=env)

    def _collect_error(
        self, started: Started, outcome: ProcessOutcome, cancel: Cancellation | None
    ) -> Attempt:
        if outcome.error or outcome.stopped:
            return self._absent(started, outcome, cancel)
        code = outcome.exit_code
        message = (
            "pytest collected no tests"
            if code in (0, 5)
            else f"pytest could not collect the tests (exit code {code})"
        )
        return self._failed(
            started, outcome, Failure("collect", message, actual=self._tail(started))
        )

    def _absent(
        self, started: Started, outcome: ProcessOutcome, cancel: Cancellation | None
    ) -> Attempt:
        """The attempt of a test that pytest did not report."""
        verdict = Verdict()
        if outcome.error:
            verdict.failures.append(Failure("run", outcome.error))
            result = Outcome.ERROR
        elif outcome.stopped:
            result = stopped(outcome, started.request, cancel, verdict)
        else:
            how = (
                f"exit code {outcome.exit_code}"
                if outcome.signal is None
                else f"signal {outcome.signal}"
            )
            verdict.failures.append(
                Failure(
                    "pytest", f"pytest did not report this test ({how})", actual=self._tail(started)
                )
            )
            result = Outcome.ERROR
        return self._failed(started, outcome, *verdict.failures, result=result)

    def _failed(
        self,
        started: Started,
        outcome: ProcessOutcome,
        *failures: Failure,
        result: Outcome = Outcome.ERROR,
    ) -> Attempt:
        stdout, stderr = started.workspace.outputs()
        return Attempt(
            number=started.number,
            outcome=result,
            started_at=outcome.started_at,
            duration=outcome.duration,
            exit_code=outcome.exit_code,
            failures=failures,
            stdout=stdout,
            stderr=stderr,
        )

    @staticmethod
    def _tail(started: Started) -> str | None:
        stdout, stderr = started.workspace.outputs()
        text = (stdout.text + ("\n" + stderr.text if stderr.text.strip() else "")).strip()
        return text[-_TAIL:] or None


@functools.cache
def _probe() -> str:
    """The probe's source, read once per process."""
    return PROBE.read_text()


def _items(path: Path) -> tuple[list[dict[str, object]], Path | None]:
    """The items the probe wrote during collection, and pytest's root directory."""
    items: list[dict[str, object]] = []
    root = None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return [], None
    for line in lines:
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if data.get("$report_type") == "Item" and isinstance(data.get("nodeid"), str):
            items.append(data)
        elif data.get("$report_type") == "Root":
            root = Path(str(data.get("rootdir")))
    return items, root


def _child(test: CommandTest, item: dict[str, object], root: Path) -> CommandTest:
    """One collected pytest test as a test of the run.

    Its id is pytest's node id (relative to pytest's root directory); its
    file is shown as the suite file is, relative to where Assay runs.
    """
    nodeid = str(item["nodeid"])
    location = item.get("location")
    file, line = nodeid.partition("::")[0], 1
    if isinstance(location, list) and len(location) == 3:
        file = str(location[0])
        line = location[1] + 1 if isinstance(location[1], int) else 1
    shown = test.location.path.parent / os.path.relpath(root / file, test.suite_file.parent)
    return replace(
        test,
        name=nodeid.partition("::")[2] or nodeid,
        node=nodeid,
        location=Location(Path(os.path.normpath(shown)), line),
        group=test.id,
    )


def _reported(path: Path) -> dict[str, Reported]:
    """What pytest reported of each test, from the probe's report log."""
    if not path.exists():
        return {}
    fallback = datetime.now(UTC)
    found: dict[str, Reported] = {}
    try:
        for record in read_reportlog(path, ImportStats()):
            attempts = record.attempts or (
                Attempt(1, record.outcome, record.started_at or fallback, 0.0),
            )
            found[record.test.id] = Reported(attempts, record.reason)
    except ReportFormatError:
        pass  # a line cut short by a killed pytest: keep what was read
    return found
