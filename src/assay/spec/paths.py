"""Paths that must stay inside a test's work directory."""

from __future__ import annotations

from pathlib import PurePosixPath

import yaml

from assay.spec.nodes import NodeReader


def relative_path(reader: NodeReader, node: yaml.Node, name: str, what: str) -> str | None:
    """`name` if it is a relative path that stays inside the work directory."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts:
        reader.error(node, f"{what}: {name!r} must be a relative path inside the work directory")
        return None
    return path.as_posix()
