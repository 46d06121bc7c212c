"""A test as the engine sees it: fully resolved, interpolated and validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assay.model.expectations import Expectations


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: a file, a 1-based line and a 1-based column."""

    path: Path
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied to a test's process tree through rlimits."""

    cpu_seconds: int | None = None
    memory_bytes: int | None = None
    open_files: int | None = None
    core_bytes: int | None = None

    def any(self) -> bool:
        """Whether at least one limit is set."""
        return any(
            v is not None
            for v in (self.cpu_seconds, self.memory_bytes, self.open_files, self.core_bytes)
        )


@dataclass(frozen=True, slots=True)
class Isolation:
    """How a test's processes are contained: the `sandbox:` setting.

    `process` (the default) is a process group on this host with rlimits.
    `bwrap` adds namespaces through bubblewrap: a read-only root, a private
    `/tmp`, no network unless `network`, its own PID namespace; `binds` are
    extra host paths made visible read-only. `container` runs `image` through
    the Docker Engine API (Docker or Podman) with the work dir mounted.
    `memory_bytes`, `cpus` and `pids` are limits for `bwrap` and `container`.
    """

    kind: str = "process"
    network: bool = False
    binds: tuple[str, ...] = ()
    image: str | None = None
    user: str | None = None
    memory_bytes: int | None = None
    cpus: float | None = None
    pids: int | None = None


KINDS = ("process", "bwrap", "container")


@dataclass(frozen=True, slots=True)
class Probe:
    """How to tell that a service is ready.

    `kind` is `tcp` (`target` is `host:port`), `http` (`target` is a URL;
    `status` and the regex `body` must match), `log` (`target` is a regex a
    line of the service's output must match) or `command` (`argv` exits 0).
    Probes repeat every `interval` seconds, doubling up to one second,
    until `timeout`.
    """

    kind: str
    target: str = ""
    argv: tuple[str, ...] = ()
    status: int | None = None
    body: str | None = None
    timeout: float = 30.0
    interval: float = 0.05


SCOPES = ("run", "suite", "test")


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A long-running process that tests need (`services:` in a suite).

    Its strings may hold `${{ port }}`, `${{ ports.NAME }}` and
    `${{ services.OTHER.url }}` (for the services it `needs`); they are
    resolved when it starts, with free ports allocated then. `ports` names
    the ports to allocate; the first is `port`.
    """

    name: str
    location: Location
    suite_file: Path
    run: str | tuple[str, ...]
    ready: Probe | None = None
    env: tuple[tuple[str, str | None], ...] = ()
    inherit_env: bool = True
    cwd: str | None = None
    scope: str = "suite"
    needs: tuple[ServiceSpec, ...] = ()
    ports: tuple[str, ...] = ("port",)
    host: str = "127.0.0.1"
    url: str = "http://${{ host }}:${{ port }}"
    grace: float = 5.0

    @property
    def key(self) -> tuple[str, str]:
        """Which definition this is: the file it was written in and its name."""
        return (self.suite_file.as_posix(), self.name)

    @property
    def argv(self) -> tuple[str, ...]:
        """The argument vector: a string goes through `sh -c`, a list is used as is."""
        if isinstance(self.run, str):
            return ("sh", "-c", self.run)
        return self.run


@dataclass(frozen=True, slots=True)
class FileSpec:
    """A file created in the test's work directory before the command starts."""

    path: str
    content: str
    mode: int | None = None


@dataclass(frozen=True, slots=True)
class PytestSpec:
    """A `pytest:` test: an existing pytest suite run as part of an Assay run.

    `args` are pytest's arguments (paths, `-k`, markers); `python` the
    interpreter that has pytest (default: the one running Assay).
    """

    args: tuple[str, ...]
    python: str | None = None


@dataclass(frozen=True, slots=True)
class CommandTest:
    """One command test (`run:`), ready to execute."""

    __test__ = False

    suite: str
    name: str
    location: Location
    suite_file: Path
    run: str | tuple[str, ...]
    stdin: str | None = None
    env: tuple[tuple[str, str | None], ...] = ()
    inherit_env: bool = True
    cwd: str | None = None
    files: tuple[FileSpec, ...] = ()
    timeout: float | None = None
    idle_timeout: float | None = None
    retries: int = 0
    needs: tuple[str, ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)
    skip: str | None = None
    strip_ansi: bool = False
    limits: Limits = field(default_factory=Limits)
    expect: Expectations = field(default_factory=Expectations)
    sandbox: Isolation = field(default_factory=Isolation)
    services: tuple[ServiceSpec, ...] = ()
    """The services the test uses (by `${{ services.NAME... }}` or `services:`)."""
    pytest: PytestSpec | None = None
    """For a `pytest:` test: what to run. `run` is then pytest's command line."""
    node: str | None = None
    """For one test of a `pytest:` test's suite: pytest's node id (also the test's id)."""
    group: str | None = None
    """Tests with the same group run in one process (the tests of one `pytest:` test)."""

    @property
    def id(self) -> str:
        """The stable identity used by reports and history: `file::name`, or a pytest node id."""
        if self.node is not None:
            return self.node
        return f"{self.location.path.as_posix()}::{self.name}"

    @property
    def kind(self) -> str:
        """The test's kind, named after the key that says what it does."""
        return "run" if self.pytest is None else "pytest"

    @property
    def argv(self) -> tuple[str, ...]:
        """The argument vector: a string goes through `sh -c`, a list is used as is."""
        if isinstance(self.run, str):
            return ("sh", "-c", self.run)
        return self.run
