"""Read JUnit XML results by streaming, whichever tool wrote them.

JUnit XML has no one schema: each tool writes a dialect. This reader accepts

- pytest, both `junit_family`s. Its `line` is 0-based, and with
  pytest-rerunfailures it repeats a test's `<testcase>` once per run without
  saying why the earlier runs failed;
- Maven Surefire and Failsafe: `<flakyFailure>`/`<flakyError>` are failed runs
  before a final pass, `<rerunFailure>`/`<rerunError>` the failed runs after
  the first `<failure>`/`<error>`, each with a `<stackTrace>` and its output;
- Ant and Jenkins, bats, GoogleTest (`status="notrun"`), and suites nested to
  any depth under a `<testsuites>` or a bare `<testsuite>` root.

Consecutive `<testcase>`s with one identity in one suite are attempts of one
test, since history cannot tell them apart anyway. An earlier one that records
no failure counts as failed only in a pytest report, the one dialect known to
write reruns that way.

The file goes to expat in chunks, and a result is yielded once the next
`<testcase>` shows that its own was not retried, so memory stays bounded
whatever the file's size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.parsers import expat

from assay.errors import ReportFormatError
from assay.importers.cases import Case, Problem, Suite, result
from assay.importers.stats import ImportStats
from assay.importers.texts import BoundedText
from assay.model.records import ResultRecord

CHUNK = 256 * 1024
# Failures, Surefire runs and properties kept per test case; more are counted in a note.
MAX_ITEMS = 100

_SUITES = ("testsuites", "testsuite")
_VERDICTS = ("failure", "error", "skipped")
_RUNS = ("flakyFailure", "flakyError", "rerunFailure", "rerunError")
_STREAMS = ("system-out", "system-err")
_COUNTS = {"name", "time", "timestamp", "id", "tests", "failures", "errors", "skipped", "disabled"}
_KNOWN_ATTRIBUTES = {
    "testsuites": _COUNTS | {"assertions", "flakes"},
    "testsuite": _COUNTS
    | {"hostname", "package", "file", "assertions", "warnings", "version", "group", "flakes"},
    "testcase": {"name", "classname", "class", "time", "file", "line", "timestamp", "assertions"}
    | {"status", "result", "id"},
}


def read_junit(path: Path, stats: ImportStats) -> Iterator[ResultRecord]:
    """The results in the JUnit XML file at `path`, one per test, as they are read.

    Raises `ReportFormatError` naming the line when the file is not
    well-formed XML or not a JUnit report.
    """
    try:
        file = path.open("rb")
        fallback = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as error:
        raise ReportFormatError(path, None, error.strerror or str(error)) from None
    with file:
        parser = expat.ParserCreate()
        reader = _Reader(path, stats, fallback, parser)
        while chunk := file.read(CHUNK):
            _feed(parser, path, chunk, final=False)
            yield from reader.drain()
        _feed(parser, path, b"", final=True)
    reader.finish()
    yield from reader.drain()


def _feed(parser: expat.XMLParserType, path: Path, data: bytes, *, final: bool) -> None:
    try:
        parser.Parse(data, final)
    except expat.ExpatError as error:
        reason = expat.ErrorString(error.code)
        raise ReportFormatError(
            path, error.lineno, f"not well-formed XML: {reason} (column {error.offset + 1})"
        ) from None


class _Reader:
    """Expat's handlers: turns elements into cases, and cases into results."""

    def __init__(
        self, path: Path, stats: ImportStats, fallback: datetime, parser: expat.XMLParserType
    ) -> None:
        self.path, self.stats, self.fallback, self.parser = path, stats, fallback, parser
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.EntityDeclHandler = self.refuse_entity
        self.tags: list[str] = []
        self.sinks: list[BoundedText | None] = []
        self.suites: list[Suite] = []
        self.case: Case | None = None
        self.run: Problem | None = None
        self.unknown_depth = 0
        self.group: list[Case] = []
        self.ready: list[ResultRecord] = []
        self.stdout, self.stderr = BoundedText(), BoundedText()
        self.top_suites = 0
        self.named_by_root = False

    def drain(self) -> Iterator[ResultRecord]:
        """The results completed since the last call."""
        ready, self.ready = self.ready, []
        return iter(ready)

    def finish(self) -> None:
        """Complete what the end of the file leaves open."""
        self.flush()
        if not self.stdout.empty:
            self.stats.stdout = self.stdout.output()
        if not self.stderr.empty:
            self.stats.stderr = self.stderr.output()
        if self.top_suites > 1 and not self.named_by_root and self.stats.name is not None:
            self.stats.name += f" (+{self.top_suites - 1} more)"

    def fail(self, message: str) -> ReportFormatError:
        return ReportFormatError(self.path, self.parser.CurrentLineNumber, message)

    def refuse_entity(self, name: str, *_: object) -> None:
        # Entities are how XML bombs and file disclosure work; no test tool declares any.
        raise self.fail(f"entity declarations are not allowed (entity {name!r})")

    def characters(self, data: str) -> None:
        if self.sinks and (sink := self.sinks[-1]) is not None:
            sink.add(data)

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if self.unknown_depth:
            self.unknown_depth += 1
            return
        parent = self.tags[-1] if self.tags else None
        sink = self.open(parent, tag, attributes)
        if sink is False:
            self.stats.unknown_elements[f"<{tag}>"] += 1
            self.unknown_depth = 1
            return
        self.tags.append(tag)
        self.sinks.append(sink if isinstance(sink, BoundedText) else None)

    def end(self, tag: str) -> None:
        if self.unknown_depth:
            self.unknown_depth -= 1
            return
        self.tags.pop()
        self.sinks.pop()
        if tag == "testcase":
            if self.case is not None:
                self.group.append(self.case)
                self.case = None
        elif tag in _SUITES:
            self.flush()
            self.suites.pop()
        elif tag in _RUNS:
            self.run = None

    def open(self, parent: str | None, tag: str, attributes: dict[str, str]) -> BoundedText | bool:
        """Start `tag`: its text's sink, True for an element without text, False if unknown."""
        # Test cases come first: they are most of any report.
        if tag == "testcase" and parent in _SUITES:
            self.case = self.open_case(attributes)
            # A different test starting means the one before was not retried: it is complete.
            if self.group and not self.case.reruns(self.group[-1]):
                self.flush()
            return True
        if parent is None and tag not in _SUITES:
            raise self.fail(f"not a JUnit report: the root element is <{tag}>")
        if tag in _SUITES and parent in (None, *_SUITES):
            self.open_suite(tag, attributes)
            return True
        if tag == "properties" and parent in ("testcase", *_SUITES):
            return True
        if tag == "property" and parent == "properties":
            return self.open_property(attributes)
        if parent in _SUITES and tag in _STREAMS:
            return self.stdout if tag == "system-out" else self.stderr
        return self.open_in_case(parent, tag, attributes)

    def open_in_case(
        self, parent: str | None, tag: str, attributes: dict[str, str]
    ) -> BoundedText | bool:
        case, run = self.case, self.run
        if case is None:
            return False
        if parent == "testcase" and tag in _VERDICTS:
            return case.add_verdict(Problem.of(tag, attributes), MAX_ITEMS).text
        if parent == "testcase" and tag in _RUNS:
            self.run = Problem.of(tag, attributes, self.seconds(tag, attributes))
            return case.add_run(self.run, MAX_ITEMS).text
        if parent == "testcase" and tag in _STREAMS:
            return case.stream(tag)
        if parent in _RUNS and run is not None and tag == "stackTrace":
            return run.trace
        if parent in _RUNS and run is not None and tag in _STREAMS:
            return run.stream(tag)
        return False

    def open_suite(self, tag: str, attributes: dict[str, str]) -> None:
        self.check_attributes(tag, attributes)
        enclosing = self.suites[-1] if self.suites else None
        name = attributes.get("name") or (enclosing.name if enclosing else "")
        started_at = self.timestamp(tag, attributes)
        if started_at is not None:
            self.stats.saw_start(started_at)
        # pytest names its suite "pytest" and, since pytest 8, its root "pytest tests".
        pytest = name in ("pytest", "pytest tests") or (enclosing is not None and enclosing.pytest)
        self.suites.append(
            Suite(name, started_at or (enclosing.started_at if enclosing else None), pytest)
        )
        self.name_run(tag, attributes.get("name"))

    def name_run(self, tag: str, name: str | None) -> None:
        """Name the run after the root, or after its top-level suites when the root has no name."""
        if not self.tags and tag == "testsuites":
            self.named_by_root = bool(name)
        elif tag == "testsuite" and (not self.tags or self.tags == ["testsuites"]):
            self.top_suites += 1
        else:
            return
        if self.stats.name is None and name:
            self.stats.name = name

    def open_case(self, attributes: dict[str, str]) -> Case:
        if "name" not in attributes:
            raise self.fail("<testcase> has no name")
        self.check_attributes("testcase", attributes)
        suite = self.suites[-1]
        line = attributes.get("line")
        return Case(
            name=attributes["name"],
            classname=attributes.get("classname") or attributes.get("class") or "",
            suite=suite,
            file=attributes.get("file") or None,
            line=int(line) + suite.pytest if line is not None and line.isdigit() else None,
            time=self.seconds("testcase", attributes),
            started_at=self.timestamp("testcase", attributes),
            not_run=attributes.get("status") in ("notrun", "skipped", "disabled")
            or attributes.get("result") in ("skipped", "suppressed"),
        )

    def open_property(self, attributes: dict[str, str]) -> BoundedText | bool:
        if self.case is None or len(self.tags) < 2 or self.tags[-2] != "testcase":
            return True
        text = BoundedText(attributes.get("value", ""))
        self.case.add_property(attributes.get("name", ""), text, MAX_ITEMS)
        return text

    def check_attributes(self, tag: str, attributes: dict[str, str]) -> None:
        known = _KNOWN_ATTRIBUTES[tag]
        if attributes.keys() <= known:
            return
        for name in attributes:
            if name not in known and ":" not in name and not name.startswith("xmlns"):
                self.stats.unknown_elements[f"<{tag} @{name}>"] += 1

    def seconds(self, tag: str, attributes: dict[str, str]) -> float:
        value = seconds(attributes.get("time"))
        if value is None:
            self.stats.unknown_elements[f"<{tag} @time unreadable>"] += 1
            return 0.0
        return value

    def timestamp(self, tag: str, attributes: dict[str, str]) -> datetime | None:
        text = attributes.get("timestamp")
        if not text:
            return None
        moment = timestamp(text)
        if moment is None:
            self.stats.unknown_elements[f"<{tag} @timestamp unreadable>"] += 1
        return moment

    def flush(self) -> None:
        if self.group:
            self.ready.append(self.stats.tally(result(self.group, self.fallback)))
            self.group = []


def seconds(text: str | None) -> float | None:
    """A duration in seconds as tools write it ("1.5", "1,234.5", "1,5"); None if unreadable."""
    text = (text or "").strip()
    if not text:
        return 0.0
    if "," in text:
        whole, _, fraction = text.rpartition(",")
        decimal_comma = "." not in text and (len(fraction) != 3 or whole in ("", "0"))
        text = f"{whole.replace(',', '')}.{fraction}" if decimal_comma else text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value < math.inf else None  # neither negative, infinite nor NaN


def timestamp(text: str) -> datetime | None:
    """An ISO 8601 or RFC 2822 time, in UTC; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        import email.utils  # rarely needed, and slow enough to import to notice at start-up

        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
