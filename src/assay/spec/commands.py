"""A command and its environment, as tests (`run`, `env`) and services write them."""

from __future__ import annotations

import yaml

from assay.spec.nodes import NodeReader, is_null, is_string, type_name


def read_command(reader: NodeReader, node: yaml.Node, what: str) -> str | tuple[str, ...] | None:
    """A command string (run through `sh -c`) or a non-empty argument list."""
    if isinstance(node, yaml.SequenceNode):
        if not node.value:
            reader.error(node, f"{what}: an empty argument list has no program to run")
            return None
        argv = reader.strings(node, what)
        return None if argv is None else tuple(argv)
    if is_string(node):
        command = reader.string(node, what)
        if command is not None and not command.strip():
            reader.error(node, f"{what}: the command is empty")
            return None
        return command
    reader.error(
        node, f"{what} must be a command string or an argument list, not {type_name(node)}"
    )
    return None


def read_env(reader: NodeReader, node: yaml.Node, what: str = "env") -> dict[str, str | None]:
    """Variables to set, by name; `null` unsets one."""

    def read(name: str, key: yaml.Node, value: yaml.Node) -> tuple[str, str | None] | None:
        if not name or "=" in name:
            reader.error(key, f"{what}: invalid variable name {name!r}")
            return None
        if is_null(value):
            return name, None
        text = reader.string(value, f"{what}.{name}", scalars=True)
        return None if text is None else (name, text)

    return dict(reader.mapping_of(node, what, read) or ())
