"""A JUnit `<testcase>` as it is read, and the attempts it stands for.

`junit.py` parses; this module decides what cases mean: a case's outcome
from its `<failure>`, `<error>` and `<skipped>` children, one `Attempt` per
run that Surefire's `<flakyFailure>`/`<rerunFailure>` elements (and their
`Error` twins) record beside the main one, and one result for consecutive
cases that are runs of one test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from assay.importers.texts import BoundedText
from assay.model import Attempt, Failure, Outcome, Output
from assay.model.records import ResultRecord, TestRecord

RERUN_NOTE = "rerun: the report keeps no details of this attempt"
_FAILING = (Outcome.FAILED, Outcome.ERROR, Outcome.TIMEOUT)


@dataclass(frozen=True, slots=True)
class Suite:
    """The `<testsuite>` around a case: its name, when it started, whether pytest wrote it."""

    name: str
    started_at: datetime | None
    pytest: bool


@dataclass(slots=True)
class Problem:
    """A `<failure>`, `<error>` or `<skipped>` element, or one Surefire run that failed."""

    tag: str
    type: str | None
    message: str | None
    time: float = 0.0
    text: BoundedText = field(default_factory=BoundedText)
    trace: BoundedText = field(default_factory=BoundedText)
    stdout: BoundedText | None = None
    stderr: BoundedText | None = None

    @classmethod
    def of(cls, tag: str, attributes: dict[str, str], time: float = 0.0) -> Problem:
        """The problem an element with these attributes starts."""
        return cls(tag, attributes.get("type") or None, attributes.get("message") or None, time)

    def stream(self, tag: str) -> BoundedText:
        """Where the text of a `<system-out>` or `<system-err>` child goes."""
        return _stream(self, tag)

    def failure(self) -> Failure:
        """The problem as a failed expectation: the type, the message and the full text."""
        # Surefire's runs keep their trace in <stackTrace>; older versions wrote it inline.
        text = self.text if self.trace.empty else self.trace
        actual = text.text()
        return Failure(
            expectation=self.type or self.tag,
            message=self.message or text.first_line() or self.tag,
            actual=actual if actual.strip() else None,
        )

    def attempt(self, number: int, started_at: datetime) -> Attempt:
        """One Surefire run that failed, as an attempt."""
        return Attempt(
            number=number,
            outcome=Outcome.FAILED if self.tag.endswith("Failure") else Outcome.ERROR,
            started_at=started_at,
            duration=self.time,
            failures=(self.failure(),),
            stdout=_output(self.stdout),
            stderr=_output(self.stderr),
        )


@dataclass(slots=True)
class Case:
    """One `<testcase>`: its identity, duration and what its children said."""

    name: str
    classname: str
    suite: Suite
    file: str | None
    line: int | None
    time: float
    started_at: datetime | None
    not_run: bool = False
    verdicts: list[Problem] = field(default_factory=list)
    runs: list[Problem] = field(default_factory=list)
    stdout: BoundedText | None = None
    stderr: BoundedText | None = None
    properties: list[tuple[str, BoundedText]] = field(default_factory=list)
    omitted: int = 0

    @property
    def id(self) -> str:
        """The test id: `classname::name`, or `suite::name` without a class name."""
        return f"{self.classname or self.suite.name}::{self.name}"

    def reruns(self, other: Case) -> bool:
        """Whether `other`, read just before this case, was an earlier run of the same test."""
        return (
            other.name == self.name
            and other.classname == self.classname
            and other.suite is self.suite
            and other.file == self.file
        )

    def stream(self, tag: str) -> BoundedText:
        """Where the text of a case's `<system-out>` or `<system-err>` goes; repeats append."""
        return _stream(self, tag)

    def add_verdict(self, problem: Problem, limit: int) -> Problem:
        """Keep `problem` unless `limit` are kept already; the element is read either way."""
        if len(self.verdicts) < limit:
            self.verdicts.append(problem)
        else:
            self.omitted += 1
        return problem

    def add_run(self, run: Problem, limit: int) -> Problem:
        """Keep a Surefire run unless `limit` are kept already."""
        if len(self.runs) < limit:
            self.runs.append(run)
        else:
            self.omitted += 1
        return run

    def add_property(self, name: str, value: BoundedText, limit: int) -> None:
        """Keep a `<property>` as a note, unless `limit` are kept already."""
        if len(self.properties) < limit:
            self.properties.append((name, value))
        else:
            self.omitted += 1

    def outcome(self) -> Outcome:
        """The verdict of the main run: a failure outweighs an error, which outweighs a skip."""
        if not self.verdicts:
            return Outcome.SKIPPED if self.not_run else Outcome.PASSED
        tags = {problem.tag for problem in self.verdicts}
        if "failure" in tags:
            return Outcome.FAILED
        if "error" in tags:
            return Outcome.ERROR
        if "skipped" in tags or self.not_run:
            return Outcome.SKIPPED
        return Outcome.PASSED

    def skip_reason(self) -> str | None:
        """Why the case was skipped: the message, else the first line of the text."""
        for problem in self.verdicts:
            if problem.tag == "skipped":
                return problem.message or problem.text.first_line() or None
        return "not run" if self.not_run else None

    def attempts(
        self, first: int, fallback: datetime, *, retried: Outcome | None = None
    ) -> list[Attempt]:
        """The attempts this case records, numbered from `first`.

        Surefire writes flaky runs before the final one and reruns after the
        first failure, so the main run goes between them. A pytest case that
        was retried ended as `retried` says when it records nothing itself.
        """
        started_at = self.started_at or self.suite.started_at or fallback
        outcome = self.outcome()
        notes: tuple[str, ...] = ()
        if retried is not None and outcome is Outcome.PASSED and self.suite.pytest:
            outcome = retried
            notes = (RERUN_NOTE,)
        if self.properties or self.omitted:
            notes = (*self.notes(), *notes)
        if (
            not (self.verdicts or self.runs or notes)
            and self.stdout is None
            and self.stderr is None
        ):
            # Most cases of a report: a pass or skip with nothing more to say, worth a shortcut.
            return [
                Attempt(number=first, outcome=outcome, started_at=started_at, duration=self.time)
            ]
        before = [run for run in self.runs if run.tag.startswith("flaky")]
        main = Attempt(
            number=first + len(before),
            outcome=outcome,
            started_at=started_at,
            duration=self.time,
            failures=tuple(p.failure() for p in self.verdicts if p.tag != "skipped"),
            stdout=None if self.stdout is None else self.stdout.output(),
            stderr=None if self.stderr is None else self.stderr.output(),
            notes=notes,
        )
        if not self.runs:
            return [main]
        after = [run for run in self.runs if not run.tag.startswith("flaky")]
        return [
            *(run.attempt(first + i, started_at) for i, run in enumerate(before)),
            main,
            *(run.attempt(main.number + 1 + i, started_at) for i, run in enumerate(after)),
        ]

    def notes(self) -> list[str]:
        """The case's properties, and what was left out, as notes on its main attempt."""
        notes = [f"{name}: {value.text()}" for name, value in self.properties]
        if self.omitted:
            notes.append(f"{self.omitted} more failures, runs or properties omitted")
        return notes


def result(group: list[Case], fallback: datetime) -> ResultRecord:
    """The result of one test from its consecutive `<testcase>`s, each a run of it."""
    last = group[-1]
    outcome = last.outcome()
    if len(group) == 1:
        attempts = last.attempts(1, fallback)
    else:
        # pytest reruns only what failed, and the same way each time as far as anyone can tell.
        rerun = outcome if outcome in (Outcome.FAILED, Outcome.ERROR) else Outcome.FAILED
        attempts = []
        for case in group[:-1]:
            attempts.extend(case.attempts(len(attempts) + 1, fallback, retried=rerun))
        attempts.extend(last.attempts(len(attempts) + 1, fallback))
    return ResultRecord(
        test=TestRecord(
            id=last.id,
            name=last.name,
            suite=last.suite.name,
            kind="junit",
            file=last.file,
            line=last.line,
        ),
        outcome=outcome,
        attempts=tuple(attempts),
        reason=last.skip_reason() if outcome is Outcome.SKIPPED else None,
        flaky=len(attempts) > 1
        and outcome is Outcome.PASSED
        and any(a.outcome in _FAILING for a in attempts),
        started_at=group[0].started_at or group[0].suite.started_at,
    )


def _output(text: BoundedText | None) -> Output | None:
    return None if text is None else text.output()


def _stream(holder: Problem | Case, tag: str) -> BoundedText:
    """`holder`'s stdout for `<system-out>`, else its stderr, made on first use."""
    if tag == "system-out":
        holder.stdout = holder.stdout or BoundedText()
        return holder.stdout
    holder.stderr = holder.stderr or BoundedText()
    return holder.stderr
