"""The `sandbox:` setting: `process`, `bwrap` or `container`, with its options."""

from __future__ import annotations

import os

import yaml

from assay.model import Isolation
from assay.model.tests import KINDS
from assay.model.units import parse_size
from assay.spec.nodes import NodeReader, type_name
from assay.spec.suggestions import did_you_mean

SANDBOX_KEYS = ("type", "network", "binds", "image", "user", "memory", "cpus", "pids")
_ONLY = {
    "binds": ("bwrap",),
    "image": ("container",),
    "user": ("container",),
    "pids": ("container",),
    "network": ("bwrap", "container"),
    "memory": ("bwrap", "container"),
    "cpus": ("bwrap", "container"),
}


def read_sandbox(reader: NodeReader, node: yaml.Node) -> Isolation | None:
    """`sandbox: bwrap`, or `sandbox: {type: container, image: ..., ...}`."""
    if isinstance(node, yaml.ScalarNode):
        kind = _kind(reader, node)
        if kind == "container":
            reader.error(node, "sandbox 'container' needs an image: {type: container, image: NAME}")
            return None
        return None if kind is None else Isolation(kind=kind)
    fields = reader.fields(node, SANDBOX_KEYS, "sandbox")
    if fields is None:
        return None
    if "type" not in fields:
        reader.error(node, f"sandbox needs a 'type': one of {', '.join(KINDS)}")
        return None
    kind = _kind(reader, fields["type"][1])
    if kind is None:
        return None
    changes: dict[str, object] = {}
    for key, (key_node, value) in fields.items():
        if key == "type":
            continue
        if kind not in _ONLY[key]:
            reader.error(key_node, f"sandbox: '{key}' is for {' and '.join(_ONLY[key])} only")
            continue
        changes.update(_option(reader, key, value))
    if kind == "container" and not changes.get("image"):
        reader.error(node, "sandbox 'container' needs an image: {type: container, image: NAME}")
        return None
    if any(value is None for value in changes.values()):
        return None
    return Isolation(kind=kind, **changes)  # type: ignore[arg-type]


def _kind(reader: NodeReader, node: yaml.Node) -> str | None:
    kind = reader.string(node, "sandbox")
    if kind is not None and kind not in KINDS:
        reader.error(
            node,
            f"unknown sandbox {kind!r}: expected one of {', '.join(KINDS)}"
            f"{did_you_mean(kind, KINDS)}",
        )
        return None
    return kind


def _option(reader: NodeReader, key: str, node: yaml.Node) -> dict[str, object]:
    if key == "network":
        return {"network": reader.boolean(node, "sandbox.network")}
    if key == "binds":
        binds = reader.strings(node, "sandbox.binds")
        for bind in binds or ():
            if not os.path.isabs(bind):
                reader.error(node, f"sandbox.binds: {bind!r} must be an absolute path")
                return {"binds": None}
        return {"binds": None if binds is None else tuple(binds)}
    if key in ("image", "user"):
        return {key: reader.string(node, f"sandbox.{key}", scalars=True)}
    if key == "memory":
        try:
            return {"memory_bytes": parse_size(reader.raw(node))}
        except ValueError as error:
            reader.error(node, f"sandbox.memory: {error}")
            return {"memory_bytes": None}
    if key == "pids":
        return {"pids": reader.integer(node, "sandbox.pids", 1)}
    value = reader.raw(node)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        reader.error(node, f"sandbox.cpus must be a positive number, not {type_name(node)}")
        return {"cpus": None}
    return {"cpus": float(value)}
