"""`assay_service`: the services of an `*.assay.yaml` file as pytest fixtures.

    assay_service("api") ─▶ its definition (the configured file, read once)
        ─▶ its needs first ─▶ the instance of its scope: session (default), module or function
        ─▶ alive: a RunningService; failed to start or died since: the asking test fails

The fixture itself is session-scoped, so that fixtures of any scope can use
it; an instance's scope is an argument. Session instances stop when the
fixture is torn down, which pytest does after Ctrl-C too; module and
function instances stop with their file or test, through finalizers of those
nodes. `pytest_unconfigure` and `atexit` stop whatever is still running.
Each pytest-xdist worker starts its own instances.

pytest loads this module into every session (through `plugin.py`), so it
imports Assay's own packages only once a services file is configured or a
service is asked for.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

import pytest

if TYPE_CHECKING:
    from assay.model import ServiceSpec
    from assay.services import Service

Scope = Literal["session", "module", "function"]
SCOPES: tuple[Scope, ...] = ("session", "module", "function")
INI = "assay_services"
_WIDTH = {"function": 0, "module": 1, "session": 2}

Definitions: TypeAlias = "dict[str, ServiceSpec] | str"
"""A file's services by name, or what is wrong with the file, said in full."""

_CONFIGURED = pytest.StashKey[tuple[Path, Definitions]]()
_CURRENT = pytest.StashKey[pytest.Item]()
_FACTORY = pytest.StashKey["ServiceFactory"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--assay-services FILE` and the `assay_services` ini option."""
    group = parser.getgroup("assay-services", "Assay's services as fixtures (assay_service)")
    group.addoption(
        "--assay-services",
        metavar="FILE",
        help="the *.assay.yaml file whose services the assay_service fixture starts "
        f"(default: the {INI} ini option)",
    )
    parser.addini(
        INI,
        "the *.assay.yaml file whose services the assay_service fixture starts, "
        "relative to the ini file",
        type="string",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Read the configured services file now, so that a broken one stops the session at once."""
    if config.option.help:
        return
    if given := config.option.assay_services:
        origin, path = "--assay-services", config.invocation_params.dir / given
    elif text := str(config.getini(INI)).strip():
        base = config.inipath.parent if config.inipath else config.invocation_params.dir
        where = f" in {config.inipath.name}" if config.inipath else ""
        origin, path = f"{INI}{where}", base / text
    else:
        return
    path = path.resolve()
    definitions = read_definitions(path, config.invocation_params.dir)
    if isinstance(definitions, str):
        raise pytest.UsageError(f"{origin}: {definitions}")
    config.stash[_CONFIGURED] = (path, definitions)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop whatever still runs: only a last resort, as the fixture stops its own instances."""
    factory = config.stash.get(_FACTORY, None)
    if factory is not None:
        factory.stop_all()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> None:
    """Remember the running test: function and module instances belong to it and its file."""
    item.config.stash[_CURRENT] = item


@pytest.fixture(scope="session")
def assay_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceFactory]:
    """Services of the configured `*.assay.yaml` file: `api = assay_service("api")`, then `api.url`.

    Instances are shared by the session unless `scope="module"` or
    `scope="function"` asks for a fresh one; see `ServiceFactory.__call__`.
    """
    factory = ServiceFactory(request.config, tmp_path_factory.getbasetemp() / "assay-services")
    request.config.stash[_FACTORY] = factory
    try:
        yield factory
    finally:
        factory.stop_all()


def read_definitions(path: Path, cwd: Path) -> Definitions:
    """The services defined in `path`, or what is wrong with it (paths shown from `cwd`)."""
    from assay.errors import SpecError
    from assay.spec import load_services
    from assay.spec.discovery import display_path

    if not path.is_file():
        return f"services file not found: {path}"
    try:
        return load_services(path, cwd)
    except SpecError as error:
        shown = "\n".join(f"  {problem}" for problem in error.problems)
        return f"{display_path(path, cwd)} is not a valid services file:\n{shown}"


class RunningService:
    """A service that `assay_service` started: where it listens, and its log."""

    __slots__ = ("_service",)

    def __init__(self, service: Service) -> None:
        self._service = service

    @property
    def name(self) -> str:
        """The service's name in its file."""
        return self._service.spec.name

    @property
    def values(self) -> Mapping[str, str]:
        """What `${{ services.NAME.x }}` gives: `url`, `host`, `port`, `ports.NAME` and `log`."""
        return self._service.values

    @property
    def url(self) -> str:
        """Its `url` (by default `http://HOST:PORT`)."""
        return self.values["url"]

    @property
    def host(self) -> str:
        """The host it listens on."""
        return self.values["host"]

    @property
    def port(self) -> int:
        """Its first port, `${{ port }}`."""
        return int(self.values["port"])

    @property
    def ports(self) -> dict[str, int]:
        """Every port allocated for it, by name: `port` and those its `ports` list names."""
        values = self.values
        return {
            name: int(values["port" if name == "port" else f"ports.{name}"])
            for name in self._service.spec.ports
        }

    @property
    def log_path(self) -> Path:
        """The file that gets its stdout and stderr."""
        return self._service.log_path

    @property
    def pid(self) -> int:
        """The process id of its main process."""
        return self._service.pid

    def tail(self, lines: int = 20) -> str:
        """The last `lines` lines of its log."""
        return self._service.tail(lines)

    def died(self) -> str | None:
        """`None` while it runs, else how it ended, with the end of its log."""
        return self._service.died()

    def __repr__(self) -> str:
        return f"<RunningService {self.name!r} at {self.url}>"


@dataclass(slots=True)
class _Instance:
    """A service started for one scope, or why it could not start."""

    service: Service | None = None
    error: str | None = None


class ServiceFactory:
    """What the `assay_service` fixture gives: call it with a service's name to have it running."""

    def __init__(self, config: pytest.Config, logs_dir: Path) -> None:
        self._config = config
        self._logs_dir = logs_dir
        self._files: dict[Path, Definitions] = {}
        if (configured := config.stash.get(_CONFIGURED, None)) is not None:
            self._files[configured[0]] = configured[1]
        self._instances: dict[tuple[tuple[str, str], str], _Instance] = {}
        self._running: list[Service] = []
        """In the order they started: they stop in reverse, dependents before their needs."""

    def __call__(
        self, name: str, *, file: str | os.PathLike[str] | None = None, scope: Scope | None = None
    ) -> RunningService:
        """The running instance of service `name`, started (after its needs) if there is none.

        `file` (relative to pytest's rootdir) replaces the configured services
        file. `scope` says which tests share the instance: the whole
        `session`, the test's `module` or just this test (`function`); by
        default `function` for a service defined with `scope: test`, else
        `session`. A service's needs get at least the scope of what needs
        them. The asking test fails, with the reason and the end of the
        service's log, if the service cannot start or has died since.
        """
        __tracebackhide__ = True
        if scope is not None and scope not in SCOPES:
            pytest.fail(
                f"assay_service({name!r}): scope must be one of {', '.join(SCOPES)}, not {scope!r}",
                pytrace=False,
            )
        spec = self._spec(name, file)
        if isinstance(spec, str):
            pytest.fail(f"assay_service({name!r}): {spec}", pytrace=False)
        got = self._ensure(spec, scope or _default_scope(spec))
        if isinstance(got, str):
            pytest.fail(got, pytrace=False)
        return RunningService(got)

    def stop_all(self) -> None:
        """Stop every instance still running, the last started first."""
        running, self._running = self._running, []
        self._instances.clear()
        atexit.unregister(self.stop_all)
        with contextlib.ExitStack() as stack:  # every one is stopped even if one stop fails
            for service in running:
                stack.callback(service.stop)

    def _spec(self, name: str, file: str | os.PathLike[str] | None) -> ServiceSpec | str:
        """The definition of `name`, or why there is none."""
        if file is not None:
            path = (self._config.rootpath / file).resolve()
            if path not in self._files:
                self._files[path] = read_definitions(path, self._config.invocation_params.dir)
        elif (configured := self._config.stash.get(_CONFIGURED, None)) is not None:
            path = configured[0]
        else:
            return (
                f"no services file: set {INI} in the pytest configuration, "
                f"pass --assay-services FILE, or call assay_service({name!r}, file=...)"
            )
        definitions = self._files[path]
        if isinstance(definitions, str):
            return definitions
        if name not in definitions:
            from assay.spec.discovery import display_path
            from assay.spec.suggestions import did_you_mean

            shown = display_path(path, self._config.invocation_params.dir)
            known = ", ".join(definitions) or "none"
            hint = did_you_mean(name, definitions)
            return f"no service {name!r} in {shown} (it defines {known}){hint}"
        return definitions[name]

    def _ensure(self, spec: ServiceSpec, scope: Scope) -> Service | str:
        """The healthy instance of `spec` for `scope` and of its needs, or what is wrong."""
        needs: dict[str, dict[str, str]] = {}
        for need in spec.needs:
            got = self._ensure(need, max(scope, _default_scope(need), key=_WIDTH.__getitem__))
            if isinstance(got, str):
                return f"service {spec.name!r} needs {need.name!r}: {got}"
            needs[need.name] = got.values
        node = self._node(scope)
        if isinstance(node, str):
            return f"assay_service({spec.name!r}, scope={scope!r}): {node}"
        key = (spec.key, "" if node is None else node.nodeid)
        instance = self._instances.get(key)
        if instance is None:
            instance = self._instances[key] = self._start(spec, needs)
            if node is not None:
                node.addfinalizer(partial(self._finish, key))
        if instance.error is not None:
            return instance.error
        assert instance.service is not None
        death = instance.service.died()
        if death is not None:
            return f"{death}\n(it was started for the {scope} and is not started again)"
        return instance.service

    def _node(self, scope: Scope) -> pytest.Item | pytest.File | str | None:
        """The node whose end stops an instance of `scope` (`None`: the session's), or why none."""
        if scope == "session":
            return None
        item = self._config.stash.get(_CURRENT, None)
        if item is None:
            return "no test is running"
        if scope == "function":
            return item
        return next((n for n in reversed(item.listchain()) if isinstance(n, pytest.File)), item)

    def _start(self, spec: ServiceSpec, needs: Mapping[str, Mapping[str, str]]) -> _Instance:
        from assay.services import ServiceError, start

        try:
            service = start(spec, logs_dir=self._logs_dir, needs=needs)
        except ServiceError as error:
            return _Instance(error=str(error))
        if not self._running:
            atexit.register(self.stop_all)
        self._running.append(service)
        return _Instance(service)

    def _finish(self, key: tuple[tuple[str, str], str]) -> None:
        """The end of a module or test: stop its instance."""
        instance = self._instances.pop(key, None)
        if instance is not None and instance.service is not None:
            with contextlib.suppress(ValueError):  # stop_all came first
                self._running.remove(instance.service)
            instance.service.stop()


def _default_scope(spec: ServiceSpec) -> Scope:
    """`function` for a service defined with `scope: test`; every other is shared by the session."""
    return "function" if spec.scope == "test" else "session"
