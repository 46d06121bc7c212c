"""Typed, position-aware reading of YAML nodes, collecting problems as it goes.

Every accessor returns None (and records a problem) for a value of the wrong
shape, so one pass over a file reports all its mistakes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import TypeVar

import yaml
from yaml.constructor import SafeConstructor

from assay.model.units import parse_duration
from assay.spec.interpolation import Scope, interpolate
from assay.spec.source import Problems
from assay.spec.suggestions import did_you_mean

T = TypeVar("T")

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_FLOAT = "tag:yaml.org,2002:float"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
Fields = dict[str, tuple[yaml.Node, yaml.Node]]


def type_name(node: yaml.Node) -> str:
    """What a node holds, in the words a user knows: string, list, mapping, ..."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {
        _INT: "a number",
        _FLOAT: "a number",
        _BOOL: "a boolean",
        _NULL: "nothing (null)",
    }.get(node.tag, "a string")


class NodeReader:
    """Reads values out of nodes, interpolating strings through one scope."""

    def __init__(self, problems: Problems, scope: Scope) -> None:
        self.problems = problems
        self.scope = scope
        # One per reader: a constructor remembers every node it built (for aliases), so a
        # shared one would keep every file ever read alive in a long-lived process (the
        # server), and it is not safe to share between threads.
        self._constructor = SafeConstructor()

    def error(self, node: yaml.Node | None, message: str) -> None:
        """Record a problem at `node`."""
        self.problems.at(node, message)

    def fields(self, node: yaml.Node, allowed: Collection[str], what: str) -> Fields | None:
        """The keys of a mapping node; unknown keys are reported with a suggestion."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping, not {type_name(node)}")
            return None
        result: Fields = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if name not in allowed:
                hint = did_you_mean(name, allowed) or f"; expected one of: {', '.join(allowed)}"
                self.error(key, f"unknown key '{name}' in {what}{hint}")
                continue
            result.setdefault(name, (key, value))
        return result

    def raw(self, node: yaml.Node) -> object:
        """The plain Python value of a node (mappings and lists included)."""
        return self._constructor.construct_object(node, deep=True)

    def data(self, node: yaml.Node) -> object:
        """Like `raw`, but every string is interpolated, with problems placed at that string."""
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [self.data(item) for item in node.value]
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            # Resolve `<<` merge keys in place, as constructing the mapping would.
            self._constructor.flatten_mapping(node)
            return {str(self.raw(key)): self.data(value) for key, value in node.value}
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            return self.text(node, str(node.value))
        return self.raw(node)

    def string(self, node: yaml.Node, what: str, *, scalars: bool = False) -> str | None:
        """An interpolated string. With `scalars`, numbers and booleans are taken as written."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL:
            self.error(node, f"{what} must be a string, not {type_name(node)}")
            return None
        if node.tag != _STR and not scalars:
            self.error(node, f"{what} must be a string, not {type_name(node)}; quote it")
            return None
        return self.text(node, str(node.value))

    def text(self, node: yaml.Node, value: str) -> str:
        """`value` (written at `node`) with `${{ }}` references resolved."""
        result, unresolved = interpolate(value, self.scope)
        for problem in unresolved:
            self.problems.at(node, problem.message, offset=self._offset(node, problem.offset))
        return result

    @staticmethod
    def _offset(node: yaml.Node, offset: int) -> int:
        # Columns inside the string are exact only when the string is written on one
        # line as it appears in the file; otherwise point at the string itself.
        style = getattr(node, "style", None) or None
        if style in (None, "'", '"') and "\n" not in str(node.value):
            return offset + (1 if style else 0)
        return 0

    def integer(self, node: yaml.Node, what: str, minimum: int = 0) -> int | None:
        """A whole number no smaller than `minimum`."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != _INT:
            self.error(node, f"{what} must be a whole number, not {type_name(node)}")
            return None
        value = self.raw(node)
        assert isinstance(value, int)
        if value < minimum:
            self.error(node, f"{what} must be at least {minimum}, not {value}")
            return None
        return value

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        """true or false."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL:
            self.error(node, f"{what} must be true or false, not {type_name(node)}")
            return None
        return bool(self.raw(node))

    def duration(self, node: yaml.Node, what: str) -> float | None:
        """Seconds, from `5s`, `250ms`, `1m30s` or a bare number of seconds."""
        if not isinstance(node, yaml.ScalarNode) or node.tag in (_NULL, _BOOL):
            self.error(node, f"{what} must be a duration such as 5s, not {type_name(node)}")
            return None
        try:
            return parse_duration(self.raw(node) if node.tag != _STR else node.value)
        except ValueError as error:
            self.error(node, f"{what}: {error}")
            return None

    def strings(self, node: yaml.Node, what: str) -> list[str] | None:
        """A list of strings; a single string counts as a list of one."""
        if isinstance(node, yaml.ScalarNode):
            one = self.string(node, what, scalars=True)
            return None if one is None else [one]
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{what} must be a list of strings, not {type_name(node)}")
            return None
        items = [self.string(item, f"each entry of {what}", scalars=True) for item in node.value]
        return None if any(i is None for i in items) else [i for i in items if i is not None]

    def mapping_of(
        self, node: yaml.Node, what: str, read: Callable[[str, yaml.Node, yaml.Node], T | None]
    ) -> list[T] | None:
        """Each `key: value` of a mapping node through `read(key, key_node, value_node)`."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping, not {type_name(node)}")
            return None
        out: list[T] = []
        for key, value in node.value:
            item = read(str(key.value), key, value)
            if item is not None:
                out.append(item)
        return out

    def regex(self, node: yaml.Node, pattern: str) -> bool:
        """Whether `pattern` compiles; records the regex error if not."""
        try:
            re.compile(pattern, re.MULTILINE)
        except re.error as error:
            self.error(node, f"invalid regular expression {pattern!r}: {error}")
            return False
        return True


def is_null(node: yaml.Node) -> bool:
    """Whether a node is an explicit null."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


def is_string(node: yaml.Node) -> bool:
    """Whether a node is a string scalar."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR
