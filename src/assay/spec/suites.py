"""Turning one `*.assay.yaml` file into validated `CommandTest`s.

Problems are collected across the whole file; the caller raises one
`SpecError` with all of them, so nothing runs from a file with any mistake.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from assay.model import (
    CommandTest,
    Expectations,
    FileSpec,
    Isolation,
    Limits,
    Location,
    PytestSpec,
    ServiceSpec,
)
from assay.model.units import parse_size
from assay.spec.commands import read_command, read_env
from assay.spec.expect import read_expect
from assay.spec.graph import check_needs
from assay.spec.interpolation import Scope
from assay.spec.nodes import Fields, NodeReader, type_name
from assay.spec.paths import relative_path
from assay.spec.sandboxes import read_sandbox
from assay.spec.services import References, read_services
from assay.spec.source import Problems, read_document
from assay.spec.suggestions import did_you_mean

_SEQ = "tag:yaml.org,2002:seq"

SUITE_KEYS = ("suite", "defaults", "vars", "services", "tests")
ACTIONS = ("run", "http", "browser", "sql", "pytest")
AVAILABLE_ACTIONS = ("run", "pytest")
PYTEST_KEYS = ("args", "python")
COMMON_KEYS = (
    "env",
    "inherit_env",
    "cwd",
    "timeout",
    "idle_timeout",
    "retries",
    "tags",
    "strip_ansi",
    "limits",
    "sandbox",
)
DEFAULT_KEYS = COMMON_KEYS
TEST_KEYS = (
    "name",
    *ACTIONS,
    "description",
    "stdin",
    "files",
    "needs",
    "services",
    "skip",
    "expect",
    *COMMON_KEYS,
)
LIMIT_KEYS = ("cpu", "memory", "open_files", "core")
FILE_KEYS = ("content", "mode")


@dataclass(frozen=True, slots=True)
class _Common:
    """Settings a test can inherit from `defaults`."""

    env: tuple[tuple[str, str | None], ...] = ()
    inherit_env: bool = True
    cwd: str | None = None
    timeout: float | None = None
    idle_timeout: float | None = None
    retries: int = 0
    tags: frozenset[str] = frozenset()
    strip_ansi: bool = False
    limits: Limits = field(default_factory=Limits)
    sandbox: Isolation = field(default_factory=Isolation)


@dataclass(slots=True)
class _Head:
    """What a suite file says before its tests: its fields, namespaces and services."""

    root: yaml.Node
    fields: Fields
    name: str
    namespaces: dict[str, Mapping[str, str]]
    services: dict[str, ServiceSpec]
    references: References


def _head(
    path: Path, display: Path, problems: Problems, environ: Mapping[str, str] | None
) -> _Head | None:
    root = read_document(path, problems)
    if root is None:
        return None
    environ = os.environ if environ is None else environ
    suite_scope = {"dir": str(path.parent), "file": str(path), "name": _default_name(path)}
    bootstrap = NodeReader(problems, Scope({"env": environ, "suite": suite_scope}))
    fields = bootstrap.fields(root, SUITE_KEYS, "the suite")
    if fields is None:
        return None
    name = suite_scope["name"]
    if "suite" in fields:
        name = bootstrap.string(fields["suite"][1], "suite") or name
        suite_scope["name"] = name
    variables = _vars(bootstrap, fields)
    namespaces: dict[str, Mapping[str, str]] = {
        "env": environ,
        "suite": suite_scope,
        "vars": variables,
    }
    services: dict[str, ServiceSpec] = {}
    references = References({})
    if "services" in fields:
        services, references = read_services(
            NodeReader(problems, Scope(namespaces)),
            fields["services"][1],
            namespaces,
            display,
            path,
        )
    return _Head(root, fields, name, namespaces, services, references)


def load_services(
    path: Path, display: Path, problems: Problems, environ: Mapping[str, str] | None = None
) -> dict[str, ServiceSpec]:
    """The services a suite file defines (its tests, if any, are not read)."""
    head = _head(path, display, problems, environ)
    if head is None:
        return {}
    if "services" not in head.fields:
        problems.at(head.root, "the file defines no 'services'")
    return head.services


def load_suite(
    path: Path, display: Path, problems: Problems, environ: Mapping[str, str] | None = None
) -> list[CommandTest]:
    """The tests of one suite file; problems go to `problems`."""
    head = _head(path, display, problems, environ)
    if head is None:
        return []
    root, fields, name, namespaces = head.root, head.fields, head.name, head.namespaces
    services, references = head.services, head.references
    reader = NodeReader(problems, Scope({**namespaces, "services": references}))
    common = (
        _common(reader, fields["defaults"][1], _Common()) if "defaults" in fields else _Common()
    )
    if "tests" not in fields:
        problems.at(root, "the suite has no 'tests' list")
        return []
    tests_node = fields["tests"][1]
    if not isinstance(tests_node, yaml.SequenceNode):
        reader.error(tests_node, f"'tests' must be a list, not {type_name(tests_node)}")
        return []
    if not tests_node.value:
        reader.error(tests_node, "'tests' is empty: add at least one test")
    context = _SuiteContext(name, path, display, common, services, references)
    tests: list[CommandTest] = []
    first_line: dict[str, int] = {}
    names: set[str] = set()
    checked: list[CommandTest] = []
    for node in tests_node.value:
        test, valid = _test(reader, node, context)
        if test is None:
            continue
        names.add(test.name)
        if test.name in first_line:
            problems.at(
                node, f"duplicate test name {test.name!r} (first at line {first_line[test.name]})"
            )
        else:
            first_line[test.name] = node.start_mark.line + 1
        checked.append(test)
        if valid:
            tests.append(test)
    check_needs(checked, names, problems)
    return tests


def _default_name(path: Path) -> str:
    name = path.name
    for suffix in (".assay.yaml", ".assay.yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _vars(reader: NodeReader, fields: Fields) -> dict[str, str]:
    if "vars" not in fields:
        return {}
    values = reader.mapping_of(
        fields["vars"][1],
        "vars",
        lambda name, _key, value: (name, reader.string(value, f"vars.{name}", scalars=True)),
    )
    return {name: value for name, value in values or () if value is not None}


@dataclass(frozen=True, slots=True)
class _SuiteContext:
    name: str
    path: Path
    display: Path
    common: _Common
    services: dict[str, ServiceSpec] = field(default_factory=dict)
    references: References = field(default_factory=lambda: References({}))


def _common(
    reader: NodeReader, node: yaml.Node, base: _Common, fields: Fields | None = None
) -> _Common:
    if fields is None:
        fields = reader.fields(node, DEFAULT_KEYS, "defaults")
        if fields is None:
            return base
    changes: dict[str, object] = {}
    if "env" in fields:
        env = dict(base.env)
        env.update(read_env(reader, fields["env"][1]))
        changes["env"] = tuple(env.items())
    for key in ("inherit_env", "strip_ansi"):
        if key in fields:
            flag = reader.boolean(fields[key][1], key)
            if flag is not None:
                changes[key] = flag
    for key in ("timeout", "idle_timeout"):
        if key in fields:
            changes[key] = reader.duration(fields[key][1], key)
    if "cwd" in fields:
        changes["cwd"] = _cwd(reader, fields["cwd"][1])
    if "retries" in fields:
        retries = reader.integer(fields["retries"][1], "retries")
        changes["retries"] = base.retries if retries is None else retries
    if "tags" in fields:
        changes["tags"] = base.tags | frozenset(reader.strings(fields["tags"][1], "tags") or ())
    if "limits" in fields:
        changes["limits"] = _limits(reader, fields["limits"][1], base.limits)
    if "sandbox" in fields:
        changes["sandbox"] = read_sandbox(reader, fields["sandbox"][1]) or base.sandbox
    return replace(base, **changes)  # type: ignore[arg-type]


def _limits(reader: NodeReader, node: yaml.Node, base: Limits) -> Limits:
    fields = reader.fields(node, LIMIT_KEYS, "limits")
    if fields is None:
        return base
    changes: dict[str, int | None] = {}
    if "cpu" in fields:
        seconds = reader.duration(fields["cpu"][1], "limits.cpu")
        changes["cpu_seconds"] = None if seconds is None else max(1, round(seconds))
    for key, attr in (("memory", "memory_bytes"), ("core", "core_bytes")):
        if key in fields:
            changes[attr] = _size(reader, fields[key][1], f"limits.{key}")
    if "open_files" in fields:
        changes["open_files"] = reader.integer(fields["open_files"][1], "limits.open_files", 1)
    return replace(base, **changes)


def _size(reader: NodeReader, node: yaml.Node, what: str) -> int | None:
    try:
        return parse_size(reader.raw(node))
    except ValueError as error:
        reader.error(node, f"{what}: {error}")
        return None


def _test(
    reader: NodeReader, node: yaml.Node, context: _SuiteContext
) -> tuple[CommandTest | None, bool]:
    """The test written at `node` (even if invalid, for the `needs` checks) and its validity.

    A test without a usable name is read to the end, so every problem in it is reported,
    but None is returned for it: nothing can need it or clash with it.
    """
    fields = reader.fields(node, TEST_KEYS, "a test")
    if fields is None:
        return None, False
    before = len(reader.problems.items)
    context.references.take()
    run = _action(reader, node, fields)
    pytest = None
    if run == ("pytest",):
        pytest = _pytest(reader, fields["pytest"][1])
        run = None if pytest is None else ("pytest", *pytest.args)
    name = _name(reader, fields, run)
    common = _common(reader, node, context.common, fields)
    stdin = reader.string(fields["stdin"][1], "stdin", scalars=True) if "stdin" in fields else None
    files = _files(reader, fields["files"][1]) if "files" in fields else ()
    needs = tuple(reader.strings(fields["needs"][1], "needs") or ()) if "needs" in fields else ()
    skip = _skip(reader, fields["skip"][1]) if "skip" in fields else None
    expect = None
    if "expect" in fields:
        # Expectations are checked after the run, when no service's values are at hand.
        used = context.references.take()
        expect = read_expect(reader, fields["expect"][1])
        if context.references.take():
            reader.error(
                fields["expect"][1],
                "expect cannot refer to services: their values are known only while the test"
                " runs (pass them to the command instead)",
            )
        context.references.used.update(dict.fromkeys(used))
    test = CommandTest(
        suite=context.name,
        name=name or "",  # dropped below when there is no name
        location=Location(context.display, node.start_mark.line + 1, node.start_mark.column + 1),
        suite_file=context.path,
        run=run or "",
        stdin=stdin,
        env=common.env,
        inherit_env=common.inherit_env,
        cwd=common.cwd,
        files=files,
        timeout=common.timeout,
        idle_timeout=common.idle_timeout,
        retries=common.retries,
        needs=needs,
        tags=common.tags,
        skip=skip,
        strip_ansi=common.strip_ansi,
        limits=common.limits,
        expect=expect or Expectations(),
        sandbox=common.sandbox,
        # Every string of the test has been read: the services it refers to are known.
        services=_used_services(reader, fields, context),
        pytest=pytest,
    )
    _check_reach(reader, node, test)
    if name is None:
        # A placeholder name would make every nameless test a duplicate of the others.
        return None, False
    return test, len(reader.problems.items) == before and run is not None


def _used_services(
    reader: NodeReader, fields: Fields, context: _SuiteContext
) -> tuple[ServiceSpec, ...]:
    """The services a test refers to (read so far) and those it lists under `services`."""
    names = context.references.take()
    if "services" in fields:
        node = fields["services"][1]
        for name in reader.strings(node, "services") or ():
            if name not in context.services:
                known = ", ".join(context.services) or "none are defined in this suite"
                reader.error(
                    node,
                    f"services: no service named {name!r}{did_you_mean(name, context.services)}"
                    f" (services: {known})",
                )
            elif name not in names:
                names.append(name)
    return tuple(context.services[name] for name in names if name in context.services)


def _check_reach(reader: NodeReader, node: yaml.Node, test: CommandTest) -> None:
    """Services listen on this host's loopback: a sandbox without it cannot use them."""
    if not test.services or test.sandbox.kind == "process":
        return
    names = ", ".join(repr(s.name) for s in test.services)
    if test.sandbox.kind == "container":
        reader.error(
            node,
            f"the test uses service {names}, but services listen on this host's loopback,"
            " which a container cannot reach: use sandbox process or bwrap",
        )
    elif not test.sandbox.network:
        reader.error(
            node,
            f"the test uses service {names}, but its bwrap sandbox has no network:"
            " add network: true to sandbox",
        )


def _pytest(reader: NodeReader, node: yaml.Node) -> PytestSpec | None:
    """`pytest: tests/ -k fast`, `pytest: [tests/, -k, fast]` or `{args: ..., python: ...}`."""
    python = None
    if isinstance(node, yaml.MappingNode):
        fields = reader.fields(node, PYTEST_KEYS, "pytest")
        if fields is None:
            return None
        if "python" in fields:
            python = reader.string(fields["python"][1], "pytest.python")
        node = fields["args"][1] if "args" in fields else yaml.SequenceNode(_SEQ, [])
    if isinstance(node, yaml.ScalarNode):
        text = reader.string(node, "pytest", scalars=True)
        if text is None:
            return None
        try:
            args = shlex.split(text)
        except ValueError as error:
            reader.error(node, f"pytest: {error}")
            return None
    else:
        listed = reader.strings(node, "pytest")
        if listed is None:
            return None
        args = listed
    return PytestSpec(args=tuple(args), python=python)


def _action(reader: NodeReader, node: yaml.Node, fields: Fields) -> str | tuple[str, ...] | None:
    actions = [key for key in ACTIONS if key in fields]
    if not actions:
        reader.error(node, f"the test has no action: add 'run' (one of {', '.join(ACTIONS)})")
        return None
    if len(actions) > 1:
        reader.error(
            fields[actions[1]][0],
            f"the test has {len(actions)} actions ({', '.join(actions)}); a test does exactly one",
        )
        return None
    if actions[0] not in AVAILABLE_ACTIONS:
        reader.error(
            fields[actions[0]][0],
            f"test kind '{actions[0]}' is not available in this version of Assay",
        )
        return None
    if actions[0] == "pytest":
        return ("pytest",)
    return read_command(reader, fields["run"][1], "run")


def _name(reader: NodeReader, fields: Fields, run: str | tuple[str, ...] | None) -> str | None:
    if "name" in fields:
        name = reader.string(fields["name"][1], "name", scalars=True)
        if name is not None and not name.strip():
            reader.error(fields["name"][1], "name must not be empty")
            return None
        return name
    if run is None:
        return None
    return run if isinstance(run, str) else " ".join(run)


def _cwd(reader: NodeReader, node: yaml.Node) -> str | None:
    # Checked where it is written, in `defaults` or in a test, so the problem is reported once.
    cwd = reader.string(node, "cwd")
    if cwd is not None and not os.path.isabs(cwd):
        relative_path(reader, node, cwd, "cwd")
    return cwd


def _files(reader: NodeReader, node: yaml.Node) -> tuple[FileSpec, ...]:
    def read(name: str, key: yaml.Node, value: yaml.Node) -> FileSpec | None:
        path = relative_path(reader, key, name, "files")
        if isinstance(value, yaml.MappingNode):
            fields = reader.fields(value, FILE_KEYS, f"files '{name}'")
            if fields is None or path is None:
                return None
            content = (
                reader.string(fields["content"][1], "content", scalars=True)
                if "content" in fields
                else ""
            )
            mode = _mode(reader, fields["mode"][1]) if "mode" in fields else None
            return None if content is None else FileSpec(path, content, mode)
        content = reader.string(value, f"files '{name}'", scalars=True)
        return None if content is None or path is None else FileSpec(path, content)

    return tuple(reader.mapping_of(node, "files", read) or ())


def _mode(reader: NodeReader, node: yaml.Node) -> int | None:
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
    try:
        # YAML 1.1 reads 0755 as octal already; a quoted "755" is octal too.
        mode = (
            reader.raw(node) if node.tag.endswith(":int") and text.startswith("0") else int(text, 8)
        )
    except ValueError:
        mode = None
    if not isinstance(mode, int) or not 0 <= mode <= 0o7777:
        reader.error(node, f"files mode must be an octal permission such as 0755, not {text!r}")
        return None
    return mode


def _skip(reader: NodeReader, node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":bool"):
        return "skipped" if reader.boolean(node, "skip") else None
    return reader.string(node, "skip (a reason)", scalars=True)
