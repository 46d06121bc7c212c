"""The `bwrap` sandbox: a test's command inside bubblewrap's namespaces, on this host.

The command sees a read-only root made of the host's system directories,
its own `/dev`, `/proc` and an empty private `/tmp`, the test's work
directory (the only place it can write), and no network. It runs in a PID
namespace of its own, so when the command ends, every process it left
behind is killed with the namespace.

bwrap is started by a `ProcessSandbox`, which goes on doing what it does
for any command: deadlines, cancelling, killing, output files and rlimits.
The rlimit shim runs before bwrap, outside, and the limits pass on to the
command. bwrap puts the command in a session of its own (`--new-session`:
a sandboxed program must not reach Assay's terminal), so what a timeout
signals is bwrap itself, and its death takes the namespace with it.
"""

from __future__ import annotations

import dataclasses
import errno
import itertools
import math
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from assay.errors import UserError
from assay.model import Isolation, Limits
from assay.sandbox.process import ProcessSandbox
from assay.sandbox.protocol import Cancellation, Execution, ProcessOutcome, ProcessRequest, wait

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/libx32", "/lib64", "/etc")
"""The host directories that make up the read-only root, where they exist."""
_PROBE_TIMEOUT = 10.0


class BwrapSandbox:
    """Runs each command in bubblewrap: read-only root, private `/tmp`, no network, own PIDs."""

    name = "bwrap"

    def __init__(self, process: ProcessSandbox | None = None, program: str | None = None) -> None:
        """Find bwrap (or use `program`) and check once that it can make namespaces here.

        Raises `UserError` when it cannot. Commands are started by `process`
        (a new `ProcessSandbox` by default), which `close` closes.
        """
        found = program or shutil.which("bwrap")
        if found is None:
            raise UserError("sandbox 'bwrap': bwrap is not installed (Debian package bubblewrap)")
        self.program = found
        self.process = process or ProcessSandbox()
        self._root = _root_arguments()
        system = [os.path.realpath(d) for d in SYSTEM_DIRS if os.path.isdir(d)]
        self._prefixes = _prefixes(system)
        self._shown = (*system, *map(os.path.realpath, self._prefixes))
        self._programs: dict[tuple[str, str | None, tuple[str, ...]], str | None] = {}
        self._taskset = shutil.which("taskset")
        self._cpus = sorted(os.sched_getaffinity(0))
        self._next_cpu = itertools.count()
        self._probe()

    def execute(self, request: ProcessRequest, cancel: Cancellation) -> ProcessOutcome:
        """Run `request` to its end, blocking."""
        started = self.start(request)
        return started if isinstance(started, ProcessOutcome) else wait(started, cancel)

    def start(self, request: ProcessRequest) -> Execution | ProcessOutcome:
        """Start `request` inside bwrap; an outcome with `error` if it cannot start."""
        try:
            wrapped = self.wrap(request)
        except _RefusedError as refused:
            return ProcessOutcome(datetime.now(UTC), 0.0, error=str(refused))
        started = self.process.start(wrapped)
        return started if isinstance(started, ProcessOutcome) else _Contained(started)

    def wrap(self, request: ProcessRequest) -> ProcessRequest:
        """`request` with its argv inside bwrap, and the isolation's limits applied."""
        isolation = request.isolation
        if isolation.pids is not None:
            raise _RefusedError(
                "sandbox 'bwrap': pids cannot be limited without cgroups; use sandbox: container"
            )
        binds = _binds(isolation)
        writable = [request.workdir or request.cwd]
        shown = (*self._shown, *map(os.path.realpath, binds))
        if not _inside(os.path.realpath(request.cwd), (*shown, os.path.realpath(writable[0]))):
            writable.append(request.cwd)  # a test's own `cwd:` outside its work dir
        self._check_program(request, shown, tuple(map(os.path.realpath, writable)))
        argv = [self.program, "--unshare-all", "--die-with-parent", "--new-session"]
        if isolation.network:
            argv.append("--share-net")
        if os.geteuid() == 0:
            # Root keeps its capabilities by default, and with them could remount the root.
            argv += ["--cap-drop", "ALL"]
        argv += self._root
        argv += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for path in (*self._prefixes, *binds):
            argv += ["--ro-bind", path, path]
        # After the tmpfs: a work dir under /tmp must be mounted on top of it.
        for directory in writable:
            argv += ["--bind", str(directory), str(directory)]
        argv += ["--remount-ro", "/", "--chdir", str(request.cwd), "--", *request.argv]
        return dataclasses.replace(
            request,
            argv=(*self._pinned(isolation), *argv),
            limits=_with_memory(request.limits, isolation),
        )

    def close(self) -> None:
        """Kill whatever is left of every command started here."""
        self.process.close()

    def _pinned(self, isolation: Isolation) -> tuple[str, ...]:
        """`taskset` arguments that keep the command on `ceil(cpus)` CPUs, if that is fewer."""
        if isolation.cpus is None:
            return ()
        count = max(1, math.ceil(isolation.cpus))
        if count >= len(self._cpus):
            return ()
        if self._taskset is None:
            raise _RefusedError("sandbox 'bwrap': cpus needs taskset (Debian package util-linux)")
        # Rotate, so that tests limited to one CPU each do not all share the first.
        first = next(self._next_cpu)
        chosen = sorted(self._cpus[(first + i) % len(self._cpus)] for i in range(count))
        return (self._taskset, "--cpu-list", ",".join(map(str, chosen)))

    def _check_program(
        self, request: ProcessRequest, shown: tuple[str, ...], writable: tuple[str, ...]
    ) -> None:
        """Refuse a program that does not exist, or that the sandbox would not show."""
        name, path = request.argv[0], request.env.get("PATH")
        if "/" in name:
            problem = _program_problem(name, path, request.cwd, (*shown, *writable))
        else:
            # Programs are found in system directories, nearly always; remember those.
            key = (name, path, shown)
            if key not in self._programs:
                self._programs[key] = _program_problem(name, path, request.cwd, shown)
            problem = self._programs[key]
            if problem:  # maybe in the work dir, which changes from test to test
                problem = _program_problem(name, path, request.cwd, (*shown, *writable))
        if problem:
            raise _RefusedError(problem)

    def _probe(self) -> None:
        """Run `true` in the namespaces once, so that a host without them fails clearly."""
        argv = [self.program, "--unshare-all", "--die-with-parent", *self._root]
        argv += ["--dev", "/dev", "--proc", "/proc", "--", "true"]
        try:
            probe = subprocess.run(
                argv, capture_output=True, timeout=_PROBE_TIMEOUT, check=False, text=True
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise UserError(f"sandbox 'bwrap': cannot run {self.program}: {error}") from None
        if probe.returncode != 0:
            reason = probe.stderr.strip() or f"exit code {probe.returncode}"
            raise UserError(f"sandbox 'bwrap': bwrap cannot create namespaces here: {reason}")


class _Contained:
    """A `ProcessSandbox` execution of bwrap, reporting no leftovers.

    Whatever the command leaves running dies with its PID namespace when it
    ends. bwrap's own init may still be tearing the namespace down just as
    bwrap exits, and would be counted as a leftover some of the time only.
    """

    def __init__(self, inner: Execution) -> None:
        self.inner = inner

    def fileno(self) -> int:
        """bwrap's pidfd while it runs."""
        return self.inner.fileno()

    def wake_at(self) -> float | None:
        """When the process sandbox must look again."""
        return self.inner.wake_at()

    def advance(self, now: float, cancel: Cancellation) -> ProcessOutcome | None:
        """Move the process sandbox's execution on; its outcome without leftovers."""
        outcome = self.inner.advance(now, cancel)
        if outcome is None or not outcome.leftovers:
            return outcome
        return dataclasses.replace(outcome, leftovers=0)


class _RefusedError(Exception):
    """A request that the `bwrap` sandbox will not run; the message is the outcome's error."""


def _root_arguments() -> list[str]:
    """The system directories, read-only; a symlink such as `/bin -> usr/bin` stays one."""
    arguments = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            arguments += ["--ro-bind", path, path]
    return arguments


def _prefixes(shown: list[str]) -> list[str]:
    """Python's installation and environment, unless the system directories show them."""
    found: list[str] = []
    for prefix in dict.fromkeys((sys.base_prefix, sys.prefix)):
        real = os.path.realpath(prefix)
        if os.path.isdir(real) and not _inside(real, (*shown, *map(os.path.realpath, found))):
            found.append(os.path.abspath(prefix))
    return found


def _binds(isolation: Isolation) -> list[str]:
    """The isolation's extra read-only paths, which must be absolute and exist."""
    binds = []
    for path in isolation.binds:
        if not os.path.isabs(path):
            raise _RefusedError(f"sandbox 'bwrap': bind path {path!r} is not absolute")
        if not os.path.exists(path):
            raise _RefusedError(f"sandbox 'bwrap': bind path {path!r} does not exist")
        binds.append(os.path.normpath(path))
    return binds


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _program_problem(name: str, path: str | None, cwd: Path, shown: tuple[str, ...]) -> str | None:
    """Why `name` cannot run in a sandbox that shows `shown` (real paths); None if it can."""
    missing = f"cannot run {name!r}: {os.strerror(errno.ENOENT)}"
    if "/" in name:
        found = cwd / name  # as exec finds it, after the change to `cwd`
        if not found.exists():
            return missing
        if not _inside(os.path.realpath(found), shown):
            return f"sandbox 'bwrap': {name!r} is outside the sandbox (add it to binds)"
        return None
    directories = (path if path is not None else os.defpath).split(os.pathsep)
    visible = [d for d in directories if d and _inside(os.path.realpath(d), shown)]
    if shutil.which(name, path=os.pathsep.join(visible)) is not None:
        return None
    host = shutil.which(name, path=path)
    if host is None:
        return missing
    return (
        f"sandbox 'bwrap': {name!r} is {host}, which the sandbox does not show "
        f"(add {os.path.dirname(host)} to binds)"
    )


def _with_memory(limits: Limits, isolation: Isolation) -> Limits:
    """`limits` with the isolation's memory as the address-space limit (the lower one wins)."""
    if isolation.memory_bytes is None:
        return limits
    memory = isolation.memory_bytes
    if limits.memory_bytes is not None:
        memory = min(memory, limits.memory_bytes)
    return dataclasses.replace(limits, memory_bytes=memory)
