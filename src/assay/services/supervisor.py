"""Starting, watching and stopping one service instance.

    start ─▶ ports ─▶ resolve ${{ }} ─▶ spawn (own session, one log file)
          ─▶ probe until ready ─┬─ ready ─────────────────────────▶ Service
                                └─ exited, timed out, cancelled ──▶ stop, ServiceError
    Service: died()? (its pidfd is readable) ─▶ stop(): TERM group ─ empty or grace ─▶ KILL

A service's processes carry an environment cookie of its own, so that
`stop` can find (through `sandbox.reaper`) those that left its process
group, as tests' processes are found. Which instances a run needs, and
when, is the engine's business.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import subprocess
import textwrap
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from assay.errors import AssayError
from assay.model import Probe, ServiceSpec
from assay.sandbox import Cancellation, reaper
from assay.sandbox.groups import group_alive, reap_group, signal_group
from assay.services import probes
from assay.services.ports import allocate
from assay.spec.interpolation import Scope, interpolate

_SETTLE = 0.05  # without a probe: how long a service must live to count as started
# How long one probe attempt may take: what is left of the probe's timeout, but at
# least a second (a slow machine is not an unready service) and at most a few.
_ATTEMPT = 2.0
_COMMAND_ATTEMPT = 5.0
_MIN_ATTEMPT = 1.0
_MAX_INTERVAL = 1.0
_GROUP_CHECK = 0.01
_KILL_WAIT = 5.0
_TAIL_LINES = 20
_TAIL_BYTES = 1 << 16
_ids = itertools.count(1)


class ServiceError(AssayError):
    """A service could not start, was not ready in time, or died; str() is the user's message."""


@dataclass(frozen=True, slots=True)
class _Launch:
    """A service's strings with every `${{ }}` resolved: what to start, and how."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str | None], ...]
    cwd: Path
    url: str
    ready: Probe | None


def start(
    spec: ServiceSpec,
    *,
    logs_dir: Path,
    needs: Mapping[str, Mapping[str, str]] = {},
    environ: Mapping[str, str] | None = None,
    cancel: Cancellation | None = None,
) -> Service:
    """Allocate free ports, resolve `${{ }}` in the spec's strings, start it, wait until ready.

    `needs` holds the `values` of the services it needs, by name; `environ`
    replaces `os.environ` as what the service inherits. Raises `ServiceError`
    with nothing of the service left running if it cannot start, exits, is
    not ready by its probe's timeout, or `cancel` is cancelled meanwhile.
    """
    try:
        ports = allocate(spec.host, spec.ports)
    except OSError as error:
        raise ServiceError(f"service {spec.name!r}: no free port on {spec.host}: {error}") from None
    words = {"host": spec.host, **({"port": str(ports[spec.ports[0]])} if spec.ports else {})}
    words.update({f"ports.{name}": str(port) for name, port in ports.items() if name != "port"})
    launch = _resolve(spec, words, needs)
    if not launch.cwd.is_dir():
        raise ServiceError(f"service {spec.name!r}: working directory {launch.cwd} does not exist")
    log_path, log = _open_log(spec, logs_dir)
    cookie = f"service-{os.getpid()}-{next(_ids)}"
    env = _environment(spec, launch.env, environ, cookie)
    try:
        check = None if launch.ready is None else _checker(launch.ready, log_path, env, launch.cwd)
    except ValueError as error:
        os.close(log)
        raise ServiceError(f"service {spec.name!r}: {error}") from None
    values = {"url": launch.url, **words, "log": str(log_path)}
    service = Service(spec, values, log_path, _spawn(spec, launch, env, log), cookie)
    try:
        service._wait_ready(check, launch.ready, cancel)
    except BaseException:  # Ctrl-C too: nothing started may outlive the failed start
        service.stop()
        raise
    return service


def _resolve(
    spec: ServiceSpec, words: dict[str, str], needs: Mapping[str, Mapping[str, str]]
) -> _Launch:
    """The spec's strings resolved; `ServiceError` naming every reference that is not."""
    others = {f"{name}.{key}": value for name, got in needs.items() for key, value in got.items()}
    scope = Scope({"services": others}, words=words)
    problems: dict[str, None] = {}

    def resolved(text: str) -> str:
        result, unresolved = interpolate(text, scope)
        problems.update(dict.fromkeys(u.message for u in unresolved))
        return result

    ready = spec.ready
    if ready is not None:
        body = None if ready.body is None else resolved(ready.body)
        argv = tuple(map(resolved, ready.argv))
        ready = replace(ready, target=resolved(ready.target), argv=argv, body=body)
    launch = _Launch(
        argv=tuple(map(resolved, spec.argv)),
        env=tuple((k, None if v is None else resolved(v)) for k, v in spec.env),
        cwd=spec.suite_file.parent / resolved(spec.cwd or "."),
        url=resolved(spec.url),
        ready=ready,
    )
    if problems:
        raise ServiceError(f"service {spec.name!r}: " + "; ".join(problems))
    return launch


def _open_log(spec: ServiceSpec, logs_dir: Path) -> tuple[Path, int]:
    """A new log file in `logs_dir` named after the service, and its descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
    try:
        logs_dir.mkdir(parents=True, exist_ok=True)
        for n in itertools.count(1):
            path = logs_dir.absolute() / (f"{spec.name}.log" if n == 1 else f"{spec.name}-{n}.log")
            with contextlib.suppress(FileExistsError):  # another instance of the same service
                return path, os.open(path, flags, 0o644)
    except OSError as error:
        raise ServiceError(f"service {spec.name!r}: cannot create its log: {error}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _environment(
    spec: ServiceSpec,
    changes: tuple[tuple[str, str | None], ...],
    environ: Mapping[str, str] | None,
    cookie: str,
) -> dict[str, str]:
    source = os.environ if environ is None else environ
    env = dict(source) if spec.inherit_env else {"PATH": source.get("PATH", os.defpath)}
    env["NO_COLOR"] = "1"
    for name, value in changes:
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env[reaper.COOKIE] = cookie
    return env


def _checker(probe: Probe, log_path: Path, env: dict[str, str], cwd: Path) -> probes.Check:
    check = probes.checker(probe, log_path=log_path, env=env, cwd=cwd)
    limit = _COMMAND_ATTEMPT if probe.kind == "command" else _ATTEMPT
    return lambda remaining: check(max(_MIN_ATTEMPT, min(limit, remaining)))


def _spawn(
    spec: ServiceSpec, launch: _Launch, env: dict[str, str], log: int
) -> subprocess.Popen[bytes]:
    reaper.become_subreaper()  # so that processes leaving its group are re-parented to us
    try:
        proc = subprocess.Popen(
            launch.argv,
            cwd=launch.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    except OSError as error:
        raise ServiceError(
            f"service {spec.name!r} cannot start: cannot run {launch.argv[0]!r}: "
            f"{error.strerror or error}"
        ) from None
    finally:
        os.close(log)
    # Sweeps of escaped test processes reap exited children they do not know of; this
    # one's exit status is ours to read.
    reaper.leaders.add(proc.pid)
    return proc


class Service:
    """One running service instance, made by `start`: its values, its log, its process group."""

    def __init__(
        self,
        spec: ServiceSpec,
        values: dict[str, str],
        log_path: Path,
        proc: subprocess.Popen[bytes],
        cookie: str,
    ) -> None:
        self.spec = spec
        self.values = values
        """What tests may refer to: `url`, `host`, `port`, `ports.NAME` and `log`."""
        self.log_path = log_path
        self.pid = proc.pid
        self._proc = proc
        self._cookie = cookie
        self._death: str | None = None
        self._stopped = False
        self._lock = threading.Lock()
        self._pidfd = -1
        with contextlib.suppress(OSError):
            self._pidfd = os.pidfd_open(proc.pid)

    def fileno(self) -> int:
        """A pidfd, readable once the main process has exited; -1 once stopped."""
        return self._pidfd

    def died(self) -> str | None:
        """Non-blocking: `None` while it runs (or after `stop`), else how it ended and its log."""
        if self._death is None and not self._stopped and self._proc.poll() is not None:
            self._death = self._with_tail(f"service {self.spec.name!r} {self._ending()}")
        return self._death

    def tail(self, lines: int = _TAIL_LINES) -> str:
        """The last `lines` lines of the service's log."""
        try:
            with self.log_path.open("rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(0, size - _TAIL_BYTES))
                found = log.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        if size > _TAIL_BYTES:
            found = found[1:]  # it starts in the middle of a line
        return "\n".join(found[-lines:]) if lines > 0 else ""

    def stop(self) -> None:
        """TERM its process group, KILL it after `spec.grace`, reap, sweep strays; idempotent."""
        with self._lock:
            if self._stopped:
                return
            self.died()  # a crash before the stop is still reported as one
            self._stopped = True
            try:
                self._end_group()
            finally:
                reaper.leaders.discard(self.pid)
                pidfd, self._pidfd = self._pidfd, -1
                if pidfd >= 0:
                    os.close(pidfd)
                reaper.sweep(self._cookie)

    def _wait_ready(
        self, check: probes.Check | None, probe: Probe | None, cancel: Cancellation | None
    ) -> None:
        """Return once the probe passes; `ServiceError` if it exits, times out or is cancelled."""
        if check is None or probe is None:
            self._pause(_SETTLE, cancel)  # it must not die at once, such as on a bad option
            self._raise_if_gone(cancel)
            return
        deadline = time.monotonic() + probe.timeout
        interval, longest = probe.interval, max(_MAX_INTERVAL, probe.interval)
        while True:
            self._raise_if_gone(cancel)
            problem = check(deadline - time.monotonic())
            if problem is None:
                self._raise_if_gone(cancel)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                self._raise_if_gone(cancel)
                what = f"{probes.describe(probe)} failed: {problem}"
                raise ServiceError(
                    self._with_tail(
                        f"service {self.spec.name!r} was not ready after {probe.timeout:g}s: {what}"
                    )
                )
            self._pause(min(interval, left), cancel)
            interval = min(interval * 2, longest)

    def _raise_if_gone(self, cancel: Cancellation | None) -> None:
        if cancel is not None and cancel.cancelled:
            raise ServiceError(
                f"starting service {self.spec.name!r} was cancelled ({cancel.reason})"
            )
        if self._proc.poll() is not None:
            raise ServiceError(
                self._with_tail(f"service {self.spec.name!r} {self._ending()} while starting")
            )

    def _pause(self, seconds: float, cancel: Cancellation | None) -> None:
        """Wait `seconds`, or less if the process exits or `cancel` is cancelled."""
        poller = select.poll()
        for fd in (self._pidfd, -1 if cancel is None else cancel.fileno()):
            if fd >= 0:
                poller.register(fd, select.POLLIN)
        poller.poll(seconds * 1000)

    def _ending(self) -> str:
        code = self._proc.returncode
        if code is not None and code < 0:
            return f"was killed by {probes.signal_name(-code)}"
        return f"exited with code {code}"

    def _with_tail(self, headline: str) -> str:
        tail = self.tail()
        if not tail:
            return f"{headline} (its log {self.log_path} is empty)"
        return f"{headline}\nlast lines of its log {self.log_path}:\n{textwrap.indent(tail, '  ')}"

    def _end_group(self) -> None:
        signal_group(self.pid, signal.SIGTERM)
        if self._wait_group(time.monotonic() + self.spec.grace):
            return
        signal_group(self.pid, signal.SIGKILL)
        self._wait_group(time.monotonic() + _KILL_WAIT)

    def _wait_group(self, deadline: float) -> bool:
        """Wait until no process of the group is left, reaping them; False at `deadline`."""
        while True:
            if self._proc.poll() is not None:
                # Only now: waiting on the group could take the leader's exit status.
                reap_group(self.pid)
                if not group_alive(self.pid):
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._proc.returncode is None and self._pidfd >= 0:
                poller = select.poll()
                poller.register(self._pidfd, select.POLLIN)
                poller.poll(left * 1000)
            else:  # nothing says when the rest of a group is gone: look again shortly
                time.sleep(min(_GROUP_CHECK, left))
