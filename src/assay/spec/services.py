"""The `services:` section of a suite, and `${{ services.NAME.x }}` references.

A service's port is only known once it runs, so references to services (and
a service's own `${{ port }}`) are checked when the file is read but kept as
written; the runner resolves them when the service is up. Referring to a
service is enough to use it: a test (or a service) that mentions
`${{ services.db.url }}` needs `db`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from assay.model import Location, Probe, ServiceSpec
from assay.model.tests import SCOPES
from assay.spec.commands import read_command, read_env
from assay.spec.interpolation import Scope
from assay.spec.nodes import Fields, NodeReader, is_string, type_name
from assay.spec.suggestions import did_you_mean

SERVICE_KEYS = (
    "run",
    "ready",
    "env",
    "inherit_env",
    "cwd",
    "scope",
    "needs",
    "ports",
    "host",
    "url",
    "grace",
)
PROBES = ("http", "tcp", "log", "command")
PROBE_KEYS = (*PROBES, "status", "body", "timeout", "interval")
ATTRIBUTES = ("url", "host", "port", "log")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class References(Mapping[str, str]):
    """The `services` namespace while a file is read: every valid `NAME.attribute`.

    Looking a key up records the service as used and gives the reference back
    as written, for the runner to resolve.
    """

    def __init__(self, ports: Mapping[str, tuple[str, ...]]) -> None:
        self._keys = {
            key: name
            for name, names in ports.items()
            for key in (
                *(f"{name}.{attribute}" for attribute in ATTRIBUTES),
                *(f"{name}.ports.{port}" for port in names),
            )
        }
        self.used: dict[str, None] = {}

    def __getitem__(self, key: str) -> str:
        self.used[self._keys[key]] = None
        return "${{ services." + key + " }}"

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def take(self) -> list[str]:
        """The services referred to since the last `take`, in order of first use."""
        used, self.used = list(self.used), {}
        return used


class _Own(Mapping[str, str]):
    """A service's own words (`port`, `host`, `ports.NAME`), kept as written."""

    def __init__(self, ports: tuple[str, ...]) -> None:
        self._words = ("port", "host", *(f"ports.{p}" for p in ports))

    def __getitem__(self, key: str) -> str:
        if key not in self._words:
            raise KeyError(key)
        return "${{ " + key + " }}"

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)


@dataclass(slots=True)
class _Draft:
    """A service as read, before its `needs` are linked to the other services."""

    name: str
    node: yaml.Node
    spec: ServiceSpec
    needs: list[str]


def read_services(
    reader: NodeReader,
    node: yaml.Node,
    namespaces: Mapping[str, Mapping[str, str]],
    display: Path,
    suite_file: Path,
) -> tuple[dict[str, ServiceSpec], References]:
    """The services of a `services:` mapping, linked through their `needs`.

    `namespaces` are the suite's (`env`, `vars`, `suite`); `display` is the
    file as reported and `suite_file` its path. Also returns the `services`
    namespace for the suite's tests.
    """
    if not isinstance(node, yaml.MappingNode):
        reader.error(node, f"'services' must be a mapping, not {type_name(node)}")
        return {}, References({})
    ports = {str(key.value): _port_names(value) for key, value in node.value}
    references = References(ports)
    drafts: dict[str, _Draft] = {}
    for key, value in node.value:
        name = str(key.value)
        if not _NAME.fullmatch(name):
            reader.error(key, f"invalid service name {name!r}: use letters, digits, _ and -")
            continue
        own = NodeReader(
            reader.problems,
            Scope({**namespaces, "services": references}, words=_Own(ports[name])),
        )
        draft = _service(own, name, key, value, (display, suite_file), ports[name], references)
        if draft is not None:
            drafts[name] = draft
    linked = _link(reader, drafts)
    return linked, References({name: ports[name] for name in linked})


def _port_names(node: yaml.Node) -> tuple[str, ...]:
    """The extra port names a service declares, read leniently (checked when it is read)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "ports" and isinstance(value, yaml.SequenceNode):
                return tuple(str(item.value) for item in value.value if is_string(item))
    return ()


def _service(
    reader: NodeReader,
    name: str,
    key: yaml.Node,
    node: yaml.Node,
    files: tuple[Path, Path],
    ports: tuple[str, ...],
    references: References,
) -> _Draft | None:
    fields = reader.fields(node, SERVICE_KEYS, f"service '{name}'")
    if fields is None:
        return None
    references.take()
    display, suite_file = files
    if "run" not in fields:
        reader.error(key, f"service '{name}' has no 'run': say how to start it")
        return None
    run = read_command(reader, fields["run"][1], f"services.{name}.run")
    changes: dict[str, object] = {}
    if "ready" in fields:
        changes["ready"] = read_probe(reader, fields["ready"][1], f"services.{name}.ready")
    if "env" in fields:
        changes["env"] = tuple(read_env(reader, fields["env"][1], f"services.{name}.env").items())
    if "inherit_env" in fields:
        changes["inherit_env"] = bool(reader.boolean(fields["inherit_env"][1], "inherit_env"))
    for field_name in ("cwd", "host", "url"):
        if field_name in fields:
            changes[field_name] = reader.string(fields[field_name][1], field_name)
    if "scope" in fields:
        scope = reader.string(fields["scope"][1], "scope")
        if scope is not None and scope not in SCOPES:
            reader.error(
                fields["scope"][1],
                f"scope must be one of {', '.join(SCOPES)}, not {scope!r}"
                f"{did_you_mean(scope, SCOPES)}",
            )
        elif scope is not None:
            changes["scope"] = scope
    if "grace" in fields:
        grace = reader.duration(fields["grace"][1], "grace")
        if grace is not None:
            changes["grace"] = grace
    if "ports" in fields:
        names = reader.strings(fields["ports"][1], "ports") or []
        for port in names:
            if not _NAME.fullmatch(port) or port == "port":
                reader.error(fields["ports"][1], f"invalid port name {port!r}")
    needs = list(reader.strings(fields["needs"][1], "needs") or ()) if "needs" in fields else []
    for used in references.take():
        if used not in needs:
            needs.append(used)
    if run is None or any(v is None for k, v in changes.items() if k != "ready"):
        return None
    spec = ServiceSpec(
        name=name,
        location=Location(display, key.start_mark.line + 1, key.start_mark.column + 1),
        suite_file=suite_file,
        run=run,
        ports=("port", *ports),
        **changes,  # type: ignore[arg-type]
    )
    return _Draft(name, key, spec, needs)


def read_probe(reader: NodeReader, node: yaml.Node, what: str) -> Probe | None:
    """A readiness probe: `{http: URL}`, `{tcp: HOST:PORT}`, `{log: REGEX}` or `{command: ...}`."""
    fields: Fields | None = reader.fields(node, PROBE_KEYS, what)
    if fields is None:
        return None
    kinds = [kind for kind in PROBES if kind in fields]
    if len(kinds) != 1:
        reader.error(
            node,
            f"{what} needs exactly one of {', '.join(PROBES)}"
            + (f", not {len(kinds)} ({', '.join(kinds)})" if kinds else ""),
        )
        return None
    kind = kinds[0]
    target_node = fields[kind][1]
    changes: dict[str, object] = {}
    if kind == "command":
        command = read_command(reader, target_node, f"{what}.command")
        if command is None:
            return None
        changes["argv"] = ("sh", "-c", command) if isinstance(command, str) else command
    else:
        target = reader.string(target_node, f"{what}.{kind}", scalars=True)
        if target is None:
            return None
        if kind == "log" and not reader.regex(target_node, target):
            return None
        if kind == "tcp" and ":" not in target:
            reader.error(target_node, f"{what}.tcp must be HOST:PORT, not {target!r}")
            return None
        changes["target"] = target
    if "status" in fields:
        if kind != "http":
            reader.error(fields["status"][0], f"{what}: 'status' is for http probes only")
        else:
            changes["status"] = reader.integer(fields["status"][1], f"{what}.status", 100)
    if "body" in fields:
        body = reader.string(fields["body"][1], f"{what}.body", scalars=True)
        if kind != "http":
            reader.error(fields["body"][0], f"{what}: 'body' is for http probes only")
        elif body is not None and reader.regex(fields["body"][1], body):
            changes["body"] = body
    for key in ("timeout", "interval"):
        if key in fields:
            seconds = reader.duration(fields[key][1], f"{what}.{key}")
            if seconds is not None:
                changes[key] = seconds
    return Probe(kind=kind, **changes)  # type: ignore[arg-type]


def _link(reader: NodeReader, drafts: dict[str, _Draft]) -> dict[str, ServiceSpec]:
    """Services with their `needs` as objects; unknown names and cycles are reported."""
    linked: dict[str, ServiceSpec] = {}
    state: dict[str, int] = {}  # 1: being linked, 2: done

    def visit(name: str, path: list[str]) -> ServiceSpec | None:
        draft = drafts[name]
        if state.get(name) == 2:
            return linked.get(name)
        if state.get(name) == 1:
            cycle = " -> ".join(repr(n) for n in [*path[path.index(name) :], name])
            reader.error(draft.node, f"services need each other in a cycle: {cycle}")
            return None
        state[name] = 1
        needs: list[ServiceSpec] = []
        for need in draft.needs:
            if need == name:
                reader.error(draft.node, f"service {name!r} needs itself")
            elif need not in drafts:
                reader.error(
                    draft.node,
                    f"service {name!r} needs {need!r}: no service of that name in this suite"
                    f"{did_you_mean(need, drafts)}",
                )
            elif (spec := visit(need, [*path, name])) is not None:
                needs.append(spec)
        state[name] = 2
        linked[name] = replace(draft.spec, needs=tuple(needs))
        return linked[name]

    for name in drafts:
        visit(name, [])
    return linked
