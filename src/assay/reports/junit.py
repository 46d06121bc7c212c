"""JUnit XML, as GitHub, GitLab and Jenkins read it.

One `<testsuite>` per suite file. Retries follow Maven Surefire: a test that
passed after failing carries `<flakyFailure>` elements, and one that kept
failing carries `<rerunFailure>` after its `<failure>`. Every string goes
through ElementTree, and characters XML 1.0 cannot hold are escaped first.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from assay.model import Attempt, Event, Outcome, Result, RunFinished, RunResult

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` with characters XML 1.0 forbids written as `\\xNN` escapes."""
    return _INVALID_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class JUnitWriter:
    """Writes the run as JUnit XML to `path` when the run finishes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def handle(self, event: Event) -> None:
        """Write the report on `RunFinished`."""
        if isinstance(event, RunFinished):
            write_junit(event.result, self.path)


def write_junit(run: RunResult, path: Path) -> None:
    """Write `run` as JUnit XML to `path`, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(junit_tree(run))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def junit_tree(run: RunResult) -> ET.Element:
    """The `<testsuites>` element for a run."""
    root = ET.Element("testsuites", name="assay")
    suites: dict[str, list[Result]] = {}
    for result in run.results:
        suites.setdefault(result.test.location.path.as_posix(), []).append(result)
    for file, results in suites.items():
        root.append(_suite(file, results, run))
    _counts(root, run.results)
    root.set("time", f"{run.duration:.3f}")
    root.set("timestamp", run.started_at.isoformat(timespec="seconds"))
    return root


def _counts(element: ET.Element, results: Iterable[Result]) -> None:
    results = list(results)
    element.set("tests", str(len(results)))
    element.set(
        "failures", str(sum(r.outcome in (Outcome.FAILED, Outcome.TIMEOUT) for r in results))
    )
    element.set("errors", str(sum(r.outcome is Outcome.ERROR for r in results)))
    element.set("skipped", str(sum(r.outcome is Outcome.SKIPPED for r in results)))


def _suite(file: str, results: list[Result], run: RunResult) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(results[0].test.suite))
    _counts(suite, results)
    suite.set("time", f"{sum(r.duration for r in results):.3f}")
    suite.set("timestamp", run.started_at.isoformat(timespec="seconds"))
    suite.set("hostname", socket.gethostname())
    suite.set("file", xml_text(file))
    for result in results:
        suite.append(_case(result, file))
    return suite


def _case(result: Result, file: str) -> ET.Element:
    test = result.test
    case = ET.Element(
        "testcase",
        name=xml_text(test.name),
        classname=xml_text(file.removesuffix(".yaml").removesuffix(".yml").replace("/", ".")),
        file=xml_text(file),
        line=str(test.location.line),
        time=f"{result.duration:.3f}",
    )
    if result.outcome is Outcome.SKIPPED:
        ET.SubElement(case, "skipped", message=xml_text(result.reason or "skipped"))
        return case
    final = result.attempts[-1]
    earlier = result.attempts[:-1]
    if result.outcome is Outcome.PASSED:
        for attempt in earlier:
            case.append(_attempt_element("flakyFailure", attempt))
    else:
        tag = "error" if result.outcome is Outcome.ERROR else "failure"
        element = ET.SubElement(
            case, tag, message=xml_text(_message(final)), type=result.outcome.value
        )
        element.text = xml_text(_details(final))
        for attempt in earlier:
            case.append(
                _attempt_element("rerunFailure" if tag == "failure" else "rerunError", attempt)
            )
    _outputs(case, final)
    return case


def _attempt_element(tag: str, attempt: Attempt) -> ET.Element:
    element = ET.Element(tag, message=xml_text(_message(attempt)), type=attempt.outcome.value)
    element.text = xml_text(_details(attempt))
    _outputs(element, attempt)
    return element


def _outputs(parent: ET.Element, attempt: Attempt) -> None:
    for tag, output in (("system-out", attempt.stdout), ("system-err", attempt.stderr)):
        if output is not None and output.text:
            ET.SubElement(parent, tag).text = xml_text(output.text)


def _message(attempt: Attempt) -> str:
    return "; ".join(f.message for f in attempt.failures) or attempt.outcome.value


def _details(attempt: Attempt) -> str:
    parts = []
    for failure in attempt.failures:
        parts.append(failure.message)
        if failure.diff:
            parts.append(failure.diff)
        else:
            # A crash has an actual signal but no expected one; print only what is known.
            if failure.expected is not None:
                parts.append(f"expected: {failure.expected}")
            if failure.actual is not None:
                parts.append(f"actual: {failure.actual}")
    if attempt.signal:
        status = f"killed by {attempt.signal}"
    elif attempt.exit_code is not None:
        status = f"exit code {attempt.exit_code}"
    else:  # the program could not be started, so it has neither
        status = "did not start"
    parts.append(f"attempt {attempt.number}, {status}, {attempt.duration:.3f}s")
    return "\n".join(parts)
