"""Reading a test's `expect:` block into `Expectations`."""

from __future__ import annotations

import signal as signals
from collections.abc import Callable

import yaml

from assay.model import ExitExpectation, Expectations, FileExpectation, Matcher, MatcherKind
from assay.model.jsonpath import parse_path
from assay.spec.nodes import NodeReader, is_string, type_name
from assay.spec.paths import relative_path

EXPECT_KEYS = ("exit", "signal", "stdout", "stderr", "files", "duration")
OUTPUT_MATCHERS = ("contains", "not_contains", "matches", "empty", "lines", "json", "snapshot")
FILE_MATCHERS = (*OUTPUT_MATCHERS, "exists")
_MATCHER_OPTIONS = ("path",)


def read_expect(reader: NodeReader, node: yaml.Node) -> Expectations | None:
    """The expectations in an `expect:` mapping."""
    fields = reader.fields(node, EXPECT_KEYS, "expect")
    if fields is None:
        return None
    signal = _signal(reader, fields["signal"][1]) if "signal" in fields else None
    default_exit = None if "signal" in fields else ExitExpectation()
    exit_ = _exit(reader, fields["exit"][1]) if "exit" in fields else default_exit
    files: tuple[FileExpectation, ...] = ()
    if "files" in fields:
        files = tuple(
            reader.mapping_of(fields["files"][1], "expect.files", _file_reader(reader)) or ()
        )
    max_duration = None
    if "duration" in fields:
        max_duration = reader.duration(fields["duration"][1], "expect.duration")
    return Expectations(
        exit=exit_,
        signal=signal,
        stdout=read_matchers(reader, fields["stdout"][1], "stdout") if "stdout" in fields else (),
        stderr=read_matchers(reader, fields["stderr"][1], "stderr") if "stderr" in fields else (),
        files=files,
        max_duration=max_duration,
    )


def _exit(reader: NodeReader, node: yaml.Node) -> ExitExpectation | None:
    if is_string(node) and node.value in ("nonzero", "any"):
        return ExitExpectation(nonzero=True) if node.value == "nonzero" else None
    if isinstance(node, yaml.SequenceNode) and node.value:
        codes = [reader.integer(item, "each exit code") for item in node.value]
        return ExitExpectation(codes=frozenset(c for c in codes if c is not None))
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
        code = reader.integer(node, "expect.exit")
        return ExitExpectation(codes=frozenset({code or 0}))
    reader.error(
        node, f"expect.exit must be a code, a list of codes, 'nonzero' or 'any', not {_show(node)}"
    )
    return None


def _signal(reader: NodeReader, node: yaml.Node) -> int | None:
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    number: int | None = None
    if isinstance(value, str) and value.isdecimal():
        # valid_signals() also holds the real-time signals, which have no names in `Signals`.
        number = int(value) if int(value) in signals.valid_signals() else None
    elif value is not None:
        name = str(value).upper()
        name = name if name.startswith("SIG") else f"SIG{name}"
        number = getattr(signals.Signals, name, None)
    if number is None:
        reader.error(node, f"expect.signal: unknown signal {_show(node)}; use a name like SIGTERM")
        return None
    return int(number)


def _show(node: yaml.Node) -> str:
    return repr(node.value) if isinstance(node, yaml.ScalarNode) else type_name(node)


def _file_reader(
    reader: NodeReader,
) -> Callable[[str, yaml.Node, yaml.Node], FileExpectation | None]:
    def read(name: str, key: yaml.Node, value: yaml.Node) -> FileExpectation | None:
        path = relative_path(reader, key, name, "expect.files")
        matchers = read_matchers(reader, value, f"expect.files '{name}'", allowed=FILE_MATCHERS)
        return None if path is None else FileExpectation(path, matchers)

    return read


def read_matchers(
    reader: NodeReader,
    node: yaml.Node,
    what: str,
    allowed: tuple[str, ...] = OUTPUT_MATCHERS,
) -> tuple[Matcher, ...]:
    """Matchers from a string (exact), a mapping of matchers, or a list of either."""
    if isinstance(node, yaml.SequenceNode):
        return tuple(m for item in node.value for m in read_matchers(reader, item, what, allowed))
    if isinstance(node, yaml.ScalarNode):
        text = reader.string(node, what, scalars=True)
        return () if text is None else (Matcher(MatcherKind.EXACT, text),)
    fields = reader.fields(node, (*allowed, *_MATCHER_OPTIONS), what)
    if fields is None:
        return ()
    if "path" in fields and "json" not in fields:
        reader.error(fields["path"][0], f"'path' in {what} only applies to a 'json' matcher")
    matchers = []
    for name, (_key, value) in fields.items():
        if name in _MATCHER_OPTIONS:
            continue
        matcher = _matcher(reader, name, value, fields, what)
        if matcher is not None:
            matchers.append(matcher)
    return tuple(matchers)


def _matcher(
    reader: NodeReader,
    name: str,
    node: yaml.Node,
    fields: dict[str, tuple[yaml.Node, yaml.Node]],
    what: str,
) -> Matcher | None:
    kind = MatcherKind(name)
    label = f"{what}.{name}"
    if kind in (MatcherKind.CONTAINS, MatcherKind.NOT_CONTAINS, MatcherKind.MATCHES):
        text = reader.string(node, label, scalars=True)
        if text is None or (kind is MatcherKind.MATCHES and not reader.regex(node, text)):
            return None
        return Matcher(kind, text)
    if kind in (MatcherKind.EMPTY, MatcherKind.EXISTS):
        flag = reader.boolean(node, label)
        return None if flag is None else Matcher(kind, flag)
    if kind is MatcherKind.LINES:
        return _lines(reader, node, label)
    if kind is MatcherKind.SNAPSHOT:
        return _snapshot(reader, node, label)
    path = None
    if "path" in fields:
        path = reader.string(fields["path"][1], f"{what}.path")
        if path is not None and not _valid_json_path(path):
            reader.error(
                fields["path"][1], f"invalid JSONPath {path!r}: expected e.g. $.items[0].name"
            )
            path = None
    return Matcher(kind, reader.data(node), path=path)


def _lines(reader: NodeReader, node: yaml.Node, label: str) -> Matcher | None:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
        count = reader.integer(node, label)
        return None if count is None else Matcher(MatcherKind.LINES, count)
    lines = reader.strings(node, label) if isinstance(node, yaml.SequenceNode) else None
    if lines is None:
        if not isinstance(node, yaml.SequenceNode):
            reader.error(
                node, f"{label} must be a line count or a list of lines, not {type_name(node)}"
            )
        return None
    return Matcher(MatcherKind.LINES, tuple(lines))


def _snapshot(reader: NodeReader, node: yaml.Node, label: str) -> Matcher | None:
    if is_string(node):
        name = reader.string(node, label)
        if name is not None and ("/" in name or name.startswith(".") or not name):
            reader.error(node, f"{label}: a snapshot name is a plain file name, not {name!r}")
            return None
        return None if name is None else Matcher(MatcherKind.SNAPSHOT, name)
    flag = reader.boolean(node, label)
    if flag is False:
        reader.error(node, f"{label}: remove the key instead of setting it to false")
    return None if not flag else Matcher(MatcherKind.SNAPSHOT, "")


def _valid_json_path(path: str) -> bool:
    try:
        parse_path(path)
    except ValueError:
        return False
    return True
