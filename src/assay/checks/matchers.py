"""Output matchers: each turns (matcher, output) into failures, never an exception."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from assay.checks.diffs import preview, unified_diff
from assay.checks.jsonmatch import select, subset_mismatch
from assay.checks.outputs import file_contains, file_equals, strip_ansi
from assay.checks.snapshots import SnapshotTarget, check_snapshot
from assay.model import Failure, Matcher, MatcherKind, Output


@dataclass(slots=True)
class Verdict:
    """Failures found so far, and notes (such as snapshots written)."""

    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_output(
    matchers: tuple[Matcher, ...],
    output: Output,
    subject: str,
    verdict: Verdict,
    *,
    snapshots: SnapshotTarget | None = None,
    ansi: bool = False,
) -> None:
    """Apply every matcher to `output` (called `subject` in messages) and add to `verdict`."""
    text = strip_ansi(output.text) if ansi else output.text
    # Matchers judge the text they are shown, so with ANSI stripping colour codes alone are
    # empty. A truncated output's stripped size is unknown (only its ends were read), so its
    # raw size stands in; it is far from empty either way.
    shown = output
    if ansi and not output.truncated:
        shown = replace(output, text=text, size=len(text.encode()))
    # Streaming checks read the raw log; with ANSI stripping they fall back to the captured text.
    scan = output.path if output.truncated and not ansi else None
    for matcher in matchers:
        if matcher.kind is MatcherKind.SNAPSHOT:
            if snapshots is None:
                continue
            failure, note = check_snapshot(snapshots, str(matcher.value), output, text, subject)
            if note:
                verdict.notes.append(note)
        else:
            failure = _check(matcher, text, shown, subject, scan)
        if failure is not None:
            verdict.failures.append(failure)


def _check(
    matcher: Matcher, text: str, output: Output, subject: str, scan: str | None
) -> Failure | None:
    kind, value = matcher.kind, matcher.value
    label = f"{subject}.{kind.value}" if kind is not MatcherKind.EXACT else subject
    if kind is MatcherKind.EXACT:
        assert isinstance(value, str)
        same = file_equals(scan, value.encode()) if scan else text == value
        if same:
            return None
        return Failure(
            label,
            f"{subject} is not exactly as expected{_cut(output)}",
            diff=unified_diff(value, text, labels=("expected", f"actual {subject}")),
        )
    if kind in (MatcherKind.CONTAINS, MatcherKind.NOT_CONTAINS):
        assert isinstance(value, str)
        # The captured text of a truncated output holds an omission marker that is not output,
        # so when the whole log can be scanned, it alone decides.
        found = file_contains(scan, value) if scan else value in text
        if found == (kind is MatcherKind.CONTAINS):
            return None
        verb = "does not contain" if kind is MatcherKind.CONTAINS else "contains"
        return Failure(label, f"{subject} {verb} {value!r}", expected=value, actual=preview(text))
    if kind is MatcherKind.MATCHES:
        assert isinstance(value, str)
        if re.search(value, text, re.MULTILINE):
            return None
        return Failure(
            label,
            f"{subject} does not match /{value}/{_cut(output)}",
            expected=value,
            actual=preview(text),
        )
    if kind is MatcherKind.EMPTY:
        if (output.size == 0) == value:
            return None
        message = (
            f"{subject} is not empty ({output.size} bytes)" if value else f"{subject} is empty"
        )
        return Failure(label, message, actual=preview(text) if value else None)
    if kind is MatcherKind.LINES:
        return _lines(value, text, label, subject)
    if kind is MatcherKind.JSON:
        return _json(matcher, text, label, subject)
    raise AssertionError(f"unhandled matcher {kind}")


def _cut(output: Output) -> str:
    if not output.truncated:
        return ""
    return f" (output of {output.size} bytes; only its head and tail are shown)"


def _lines(value: object, text: str, label: str, subject: str) -> Failure | None:
    actual = text.splitlines()
    if isinstance(value, int):
        if len(actual) == value:
            return None
        return Failure(
            label,
            f"{subject} has {len(actual)} lines, expected {value}",
            expected=str(value),
            actual=str(len(actual)),
        )
    assert isinstance(value, tuple)
    expected = list(value)
    if actual == expected:
        return None
    diff = unified_diff(
        "\n".join(expected) + "\n",
        "\n".join(actual) + "\n",
        labels=("expected lines", f"actual {subject} lines"),
    )
    return Failure(label, f"{subject} lines differ", diff=diff)


def _json(matcher: Matcher, text: str, label: str, subject: str) -> Failure | None:
    try:
        document = json.loads(text)
    except ValueError as error:
        return Failure(label, f"{subject} is not valid JSON: {error}", actual=preview(text))
    where = matcher.path or "$"
    try:
        actual = select(document, where) if matcher.path else document
    except LookupError as error:
        return Failure(label, f"{subject} JSON has nothing at {error}", actual=preview(text))
    problem = subset_mismatch(matcher.value, actual, where)
    if problem is None:
        return None
    return Failure(
        label,
        f"{subject} JSON differs {problem}",
        expected=json.dumps(matcher.value, indent=2, sort_keys=True),
        actual=preview(json.dumps(actual, indent=2, sort_keys=True)),
    )
