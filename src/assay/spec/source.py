"""Reading a test file into YAML nodes that remember their line and column.

PyYAML's composer gives every node a start mark, which is all we need to
report problems as `path:line:col`. This module also rejects what YAML itself
accepts but a test file must not be: empty or binary files and duplicate keys.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from assay.errors import SpecProblem

try:  # The C parser is several times faster; fall back where libyaml is missing.
    _Loader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


class Problems:
    """Collects every problem found in one file instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[SpecProblem] = []

    def at(self, node: yaml.Node | None, message: str, offset: int = 0) -> None:
        """Record `message` at `node`'s position (plus `offset` columns on its first line)."""
        if node is None:
            self.items.append(SpecProblem(self.path, 1, 1, message))
            return
        mark = node.start_mark
        self.items.append(SpecProblem(self.path, mark.line + 1, mark.column + 1 + offset, message))

    def at_line(self, line: int, column: int, message: str) -> None:
        """Record `message` at a 1-based line and column."""
        self.items.append(SpecProblem(self.path, line, column, message))


def read_document(path: Path, problems: Problems) -> yaml.Node | None:
    """The root node of `path`, or None after recording why it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as error:
        problems.at(None, f"cannot read test file: {error.strerror}")
        return None
    text = _decode(data, problems)
    if text is None:
        return None
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = error.problem or error.context or "invalid YAML"
        problems.at_line(line, column, f"YAML syntax error: {detail}")
        return None
    except yaml.YAMLError as error:
        problems.at(None, f"YAML syntax error: {error}")
        return None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.value == ""):
        problems.at(None, "empty test file: expected a mapping with a 'tests' list")
        return None
    _check_duplicate_keys(root, problems)
    return root


def _decode(data: bytes, problems: Problems) -> str | None:
    nul = data.find(b"\x00")
    if nul >= 0:
        _binary_at(data, nul, problems)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        _binary_at(data, error.start, problems)
        return None


def _binary_at(data: bytes, offset: int, problems: Problems) -> None:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    problems.at_line(line, column, "binary file: a test file must be UTF-8 text")


def _check_duplicate_keys(root: yaml.Node, problems: Problems) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        problems.at(
                            key,
                            f"duplicate key '{key.value}' (first at line {seen[key.value]})",
                        )
                    else:
                        seen[key.value] = key.start_mark.line + 1
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
