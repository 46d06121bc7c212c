"""The `container` sandbox: a test's command in a container, through the Docker Engine API.

Docker and Podman (its Docker-compatible service) both work. The command
runs in the isolation's image as a non-root user, with the work directory
mounted read-write at the same path, no network, and the memory, CPU and
process limits of the container engine (cgroups).

The engine's loop must never wait on the API, so each container has a
thread of its own that creates it, copies its output to the test's files
as it arrives, waits for its end and removes it. The thread tells the loop
that it is done through a pipe, whose read end is the execution's
`fileno()`. Deadlines and cancelling stop the container (TERM, grace,
KILL, done by the engine) from another short-lived thread. Every container
carries a label naming this sandbox, so `close` can remove any that is
left.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.errors import UserError
from assay.sandbox.protocol import Cancellation, ProcessOutcome, ProcessRequest, wait

API_VERSION = "1.41"
"""The Engine API version asked for: Docker 20.10 and later, and Podman 3 and later speak it."""
LABEL = "assay.run"
"""The label on every container: this sandbox's id (`<pid>-<ns>`), for `close` to find them."""
DEFAULT_USER = "65534:65534"
"""`nobody`: the user a test runs as unless `user` says otherwise."""
_IDLE_CHECK = 0.25
_GIVE_UP = 30.0  # after the grace, how long a stopped container may take to be gone
_JOIN = 5.0
_CHUNK = 65536
_KILLED = 128 + 9  # the status of a container whose main process SIGKILL ended
_ids = itertools.count(1)


def default_sockets() -> list[str]:
    """Where Docker and Podman listen by default, in the order they are tried."""
    sockets = ["/var/run/docker.sock", "/run/podman/podman.sock"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        sockets.append(f"{runtime}/podman/podman.sock")
    return sockets


class ContainerSandbox:
    """Runs each command in a container of its isolation's image, removed afterwards."""

    name = "container"

    def __init__(self, host: str | None = None) -> None:
        """Connect to `host` (a Docker URL), else `DOCKER_HOST`, else a default socket.

        Raises `UserError` when the `docker` package is missing or nothing answers.
        """
        self.run_id = f"{os.getpid()}-{time.monotonic_ns()}"
        self.engine = _Engine.connect(host)
        self._images: set[str] = set()
        self._running: set[_Execution] = set()
        self._lock = threading.Lock()

    def execute(self, request: ProcessRequest, cancel: Cancellation) -> ProcessOutcome:
        """Run `request` to its end, blocking."""
        started = self.start(request)
        return started if isinstance(started, ProcessOutcome) else wait(started, cancel)

    def start(self, request: ProcessRequest) -> _Execution | ProcessOutcome:
        """Start `request` in a container; an outcome with `error` if that cannot be done."""
        started_at, start = datetime.now(UTC), time.monotonic()
        image = request.isolation.image
        if not image:
            return ProcessOutcome(started_at, 0.0, error="sandbox 'container': no image given")
        if image not in self._images:
            problem = self.engine.image_problem(image)
            if problem:
                return ProcessOutcome(started_at, time.monotonic() - start, error=problem)
            self._images.add(image)
        try:
            spec = self._spec(request, image)
        except OSError as error:
            message = f"sandbox 'container': cannot hand the work dir over: {error}"
            return ProcessOutcome(started_at, time.monotonic() - start, error=message)
        execution = _Execution(self, request, spec, started_at, start)
        with self._lock:
            self._running.add(execution)
        execution.thread.start()
        return execution

    def close(self) -> None:
        """Stop every container started here, remove them all, and disconnect."""
        with self._lock:
            running, self._running = list(self._running), set()
        for execution in running:
            execution.stop_now()
        for container in self.engine.labelled(f"{LABEL}={self.run_id}"):
            self.engine.remove(container)
        for execution in running:
            execution.thread.join(_JOIN)
        self.engine.close()

    def _spec(self, request: ProcessRequest, image: str) -> _Spec:
        user = request.isolation.user or DEFAULT_USER
        workdir = request.workdir or request.cwd
        mounts = [str(workdir)]
        if not request.cwd.is_relative_to(workdir):
            mounts.append(str(request.cwd))
        if request.workdir is not None:
            _hand_over(request.workdir, user)
        attempt = f"{self.run_id}-{next(_ids)}"
        return _Spec(image, user, tuple(mounts), attempt, self.run_id)

    def _forget(self, execution: _Execution) -> None:
        with self._lock:
            self._running.discard(execution)


@dataclass(frozen=True, slots=True)
class _Spec:
    image: str
    user: str
    mounts: tuple[str, ...]
    attempt: str
    run_id: str


class _Engine:
    """The few Engine API calls the sandbox makes, over the `docker` package's client."""

    def __init__(self, sdk: Any, client: Any, url: str) -> None:
        self.sdk = sdk
        self.client = client
        self.api = client.api
        self.url = url
        self.podman = False
        self.failures: tuple[type[Exception], ...] = (sdk.errors.DockerException, OSError)

    @classmethod
    def connect(cls, host: str | None) -> _Engine:
        try:
            import docker  # type: ignore[import-untyped]
        except ImportError:
            raise UserError(
                "the docker Python package is not installed: pip install 'assay[container]'"
            ) from None
        url = host or os.environ.get("DOCKER_HOST")
        if url is None:
            found = [s for s in default_sockets() if os.path.exists(s)]
            if not found:
                tried = " or ".join(f"unix://{s}" for s in default_sockets())
                raise UserError(
                    f"sandbox 'container': no Docker or Podman socket at {tried} (set DOCKER_HOST)"
                )
            url = f"unix://{found[0]}"
        if url.startswith("unix://"):
            _check_socket(url)
        options = {"version": API_VERSION, "max_pool_size": 64}
        if host is None and "DOCKER_HOST" in os.environ:
            client = docker.from_env(**options)  # also reads DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
        else:
            client = docker.DockerClient(base_url=url, **options)
        engine = cls(docker, client, url)
        engine.ping()
        return engine

    def ping(self) -> None:
        """Check that the engine answers, and whether it is Podman."""
        import requests

        try:
            with self.api.get(f"{self.api.base_url}/_ping", timeout=10) as response:
                response.raise_for_status()
                self.podman = "Libpod-Api-Version" in response.headers
        except requests.RequestException as error:
            self.client.close()
            raise UserError(
                f"sandbox 'container': no Docker or Podman answers at {self.url}: {_reason(error)}"
            ) from None

    def image_problem(self, image: str) -> str | None:
        """Why `image` cannot be used, or None."""
        try:
            self.api.inspect_image(image)
        except self.sdk.errors.ImageNotFound:
            return f"sandbox 'container': image {image!r} not found"
        except self.failures as error:
            return f"sandbox 'container': cannot look up image {image!r}: {_reason(error)}"
        return None

    def create(self, request: ProcessRequest, spec: _Spec) -> str:
        """Create (not start) the container for `request`; its id."""
        isolation = request.isolation
        memory = [m for m in (isolation.memory_bytes, request.limits.memory_bytes) if m]
        host_config = self.api.create_host_config(
            binds={path: {"bind": path, "mode": "rw"} for path in spec.mounts},
            network_mode=None if isolation.network else "none",
            mem_limit=min(memory) if memory else None,
            memswap_limit=min(memory) if memory else None,  # no swap beyond the limit
            nano_cpus=round(isolation.cpus * 1e9) if isolation.cpus else None,
            pids_limit=isolation.pids,
            ulimits=self._ulimits(request),
            security_opt=["no-new-privileges"],
        )
        created = self.api.create_container(
            spec.image,
            command=list(request.argv),
            user=spec.user,
            working_dir=str(request.cwd),
            environment=dict(request.env),
            labels={LABEL: spec.run_id, "assay.attempt": spec.attempt},
            stdin_open=request.stdin is not None,
            host_config=host_config,
        )
        return str(created["Id"])

    def _ulimits(self, request: ProcessRequest) -> list[Any] | None:
        limits = request.limits
        values = {"cpu": limits.cpu_seconds, "nofile": limits.open_files, "core": limits.core_bytes}
        chosen = {name: value for name, value in values.items() if value is not None}
        if not chosen:
            return None
        if self.podman:
            # Podman drops its default limits once any is given, and falls back to values
            # above what its OCI runtime may set; give those two explicitly.
            chosen.setdefault("nofile", 1024)
            chosen.setdefault("nproc", 4096)
        return [
            self.sdk.types.Ulimit(name=name, soft=value, hard=value)
            for name, value in chosen.items()
        ]

    def attach(self, container: str, stdin: bool) -> _Stream:
        """The container's output (and input) stream; attach before starting it."""
        params = {"stdout": 1, "stderr": 1, "stream": 1, "logs": 1, "stdin": int(stdin)}
        return _Stream(self.api.attach_socket(container, params=params))

    def start(self, container: str) -> None:
        self.api.start(container)

    def wait(self, container: str) -> int:
        """The container's exit status, once it has ended."""
        if self.podman:
            # Podman's Docker-compatible wait looks every 250 ms (its own API can be asked
            # to look more often), and wait takes longer than a tiny test runs.
            url = f"{self.api.base_url}/v4.0.0/libpod/containers/{container}/wait"
            params = {"condition": "exited", "interval": "10ms"}
            with self.api.post(url, params=params, timeout=None) as response:
                response.raise_for_status()
                return int(response.json())
        return int(self.api.wait(container, timeout=None)["StatusCode"])

    def out_of_memory(self, container: str) -> bool:
        """Whether the kernel killed the container for going over its memory limit."""
        try:
            state = self.api.inspect_container(container)["State"]
        except self.failures:
            return False
        return bool(state.get("OOMKilled"))

    def stop(self, container: str, grace: float) -> None:
        """TERM the container's processes, and KILL them after `grace` seconds."""
        self.api.stop(container, timeout=math.ceil(grace))

    def remove(self, container: str) -> None:
        """Remove the container, killing it first if need be; quietly, if it is gone."""
        with contextlib.suppress(*self.failures):
            self.api.remove_container(container, force=True)

    def labelled(self, label: str) -> list[str]:
        """Ids of every container, running or not, that carries `label` (`key=value`)."""
        try:
            found = self.api.containers(all=True, filters={"label": label})
        except self.failures:
            return []
        return [str(c["Id"]) for c in found]

    def describe(self, error: Exception, request: ProcessRequest, image: str) -> str:
        """An outcome's error message for a failed call."""
        if isinstance(error, self.sdk.errors.ImageNotFound):
            return f"sandbox 'container': image {image!r} not found"
        reason = _reason(error)
        if "executable file not found" in reason or (
            "exec:" in reason and "no such file" in reason
        ):
            return f"cannot run {request.argv[0]!r}: not found in image {image!r}"
        return f"sandbox 'container': {reason}"

    def close(self) -> None:
        self.client.close()


class _Stream:
    """A container's attached stream: Docker's frames of stdout and stderr, and its stdin."""

    def __init__(self, io: Any) -> None:
        self.io = io
        # `attach_socket` answers with the raw `SocketIO`, whose socket is `_sock`: its
        # timeout must go (a quiet test outlasts the client's), and only the socket can
        # half-close its writing side, which ends the container's input.
        self.sock: socket.socket = getattr(io, "_sock", io)
        self.sock.settimeout(None)

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(stream, bytes) pieces as they arrive (1 is stdout, 2 stderr), until the end."""
        header = b""
        stream, left = 0, 0
        while True:
            data = self.sock.recv(_CHUNK)
            if not data:
                return
            view = memoryview(data)
            while view:
                if left:
                    piece, view = view[:left], view[left:]
                    left -= len(piece)
                    yield stream, bytes(piece)
                    continue
                need = 8 - len(header)
                header += bytes(view[:need])
                view = view[need:]
                if len(header) == 8:
                    stream, left = header[0], int.from_bytes(header[4:8], "big")
                    header = b""

    def send(self, fd: int) -> None:
        """Send everything readable from `fd` as the container's input, then end it."""
        with contextlib.suppress(OSError):
            while data := os.read(fd, _CHUNK):
                self.sock.sendall(data)
            self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.io.close()


class _Execution:
    """One container, run by its own thread and driven by the engine's loop through a pipe."""

    def __init__(
        self,
        sandbox: ContainerSandbox,
        request: ProcessRequest,
        spec: _Spec,
        started_at: datetime,
        start: float,
    ) -> None:
        self.sandbox = sandbox
        self.engine = sandbox.engine
        self.request = request
        self.spec = spec
        self.started_at = started_at
        self.start = start
        self.deadline = start + request.timeout if request.timeout else None
        self._read, self._write = os.pipe()
        self.thread = threading.Thread(target=self._run, name=f"assay-{spec.attempt}", daemon=True)
        self._lock = threading.Lock()
        self.container: str | None = None
        self.running = False  # started, as far as stopping it is concerned
        self.stop_asked = False
        self.stopped: str | None = None
        self.stopping_since: float | None = None
        self.status: int | None = None
        self.oom = False  # killed by the kernel for going over the memory limit
        self.error: str | None = None
        self.ended_at: float | None = None
        self.checked_at = start
        self.last_size = -1
        self.last_change = start

    def fileno(self) -> int:
        """Readable once the container is gone; -1 after the outcome was given."""
        return self._read

    def wake_at(self) -> float | None:
        """The next deadline, idle check or, while stopping, when to stop waiting."""
        if self.stopping_since is not None:
            return self.stopping_since + self.request.grace + _GIVE_UP
        wakes = [w for w in (self.deadline, self._idle_wake()) if w is not None]
        return min(wakes) if wakes else None

    def _idle_wake(self) -> float | None:
        if not self.request.idle_timeout:
            return None
        return min(self.last_change + self.request.idle_timeout, self.checked_at + _IDLE_CHECK)

    def advance(self, now: float, cancel: Cancellation) -> ProcessOutcome | None:
        """Notice the end, or stop the container on a deadline or cancel; the outcome when gone."""
        self.checked_at = now
        if not self.thread.is_alive() and self._read >= 0:
            return self._finish()
        if self.stopping_since is None:
            reason = self._why_stop(now, cancel)
            if reason is not None:
                self.stopped, self.stopping_since = reason, now
                threading.Thread(target=self._stop, args=(self.request.grace,), daemon=True).start()
        elif now >= self.stopping_since + self.request.grace + _GIVE_UP:
            self.error = f"sandbox 'container': the container did not stop within {_GIVE_UP:.0f} s"
            return self._finish()
        return None

    def stop_now(self) -> None:
        """Kill the container at once (from `close`)."""
        self.stopped = self.stopped or "cancelled"
        self._stop(0)

    def _why_stop(self, now: float, cancel: Cancellation) -> str | None:
        if self.deadline is not None and now >= self.deadline:
            return "timeout"
        if cancel.cancelled:
            return "cancelled"
        if self.request.idle_timeout:
            size = os.fstat(self.request.stdout).st_size + os.fstat(self.request.stderr).st_size
            if size != self.last_size:
                self.last_size, self.last_change = size, now
            elif now - self.last_change >= self.request.idle_timeout:
                return "idle"
        return None

    def _stop(self, grace: float) -> None:
        with self._lock:
            self.stop_asked = True
            container = self.container if self.running else None
        if container is not None:
            with contextlib.suppress(*self.engine.failures):
                self.engine.stop(container, grace)

    def _run(self) -> None:
        """The thread: create, attach, start, copy output, wait, and always remove."""
        try:
            self._contain()
        except self.engine.failures as error:
            self.error = self.engine.describe(error, self.request, self.spec.image)
        except Exception as error:  # nothing may escape a thread unseen
            self.error = f"sandbox 'container': {type(error).__name__}: {error}"
        finally:
            if self.container is not None:
                self.engine.remove(self.container)
            self.ended_at = self.ended_at or time.monotonic()
            with self._lock:  # the loop may have given up on this container and closed it
                if self._write >= 0:
                    os.write(self._write, b"x")

    def _contain(self) -> None:
        request = self.request
        container = self.engine.create(request, self.spec)
        with self._lock:
            self.container = container
        stream = self.engine.attach(container, stdin=request.stdin is not None)
        try:
            with self._lock:  # a stop asked for before the start must win
                if self.stop_asked:
                    return
                self.engine.start(container)
                self.running = True
            if request.stdin is not None:
                threading.Thread(target=stream.send, args=(request.stdin,), daemon=True).start()
            outputs = {1: request.stdout, 2: request.stderr}
            for kind, data in stream.frames():
                _write_all(outputs.get(kind, request.stderr), data)
        finally:
            stream.close()
        self.status = self.engine.wait(container)
        self.ended_at = time.monotonic()
        if self.status == _KILLED and self.engine.out_of_memory(container):
            self.oom = True

    def _finish(self) -> ProcessOutcome:
        with self._lock:
            for fd in (self._read, self._write):
                os.close(fd)
            self._read = self._write = -1
        self.sandbox._forget(self)
        duration = (self.ended_at or time.monotonic()) - self.start
        if self.error is not None:
            return ProcessOutcome(self.started_at, duration, error=self.error)
        code = self.status if self.status is not None else -1
        if code < 0:
            # Stopped before it started, or gone without a status.
            return ProcessOutcome(self.started_at, duration, stopped=self.stopped)
        # A container's status is 128+N when signal N killed its main process; only a stop
        # by Assay or the engine's word on memory says so (a program may exit 137 itself).
        killed = (self.stopped is not None or self.oom) and code > 128
        return ProcessOutcome(
            started_at=self.started_at,
            duration=duration,
            exit_code=None if killed else code,
            signal=code - 128 if killed else None,
            stopped=self.stopped,
        )


def _hand_over(workdir: Path, user: str) -> None:
    """Let the container's user write in the (fresh) work dir.

    Root gives the directory and what it holds to a numeric user; others can
    only open the directory itself to everyone.
    """
    uid, _, gid = user.partition(":")
    if os.geteuid() == 0 and uid.isdigit() and (not gid or gid.isdigit()):
        owner, group = int(uid), int(gid) if gid else -1
        os.chown(workdir, owner, group)
        for root, dirs, files in os.walk(workdir):
            for name in (*dirs, *files):
                os.chown(os.path.join(root, name), owner, group, follow_symlinks=False)
    else:
        workdir.chmod(0o777)


def _check_socket(url: str) -> None:
    """Raise `UserError` unless something accepts connections on the Unix socket of `url`."""
    path = url.removeprefix("unix://")
    if not os.path.exists(path):
        raise UserError(
            f"sandbox 'container': no Docker or Podman socket at {url} (set DOCKER_HOST)"
        )
    # Before the client tries: it leaves its socket open when the connection fails.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(10)
        try:
            probe.connect(path)
        except OSError as error:
            raise UserError(
                f"sandbox 'container': no Docker or Podman answers at {url}: "
                f"{error.strerror or error}"
            ) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _reason(error: Exception) -> str:
    """The engine's own words for `error`, without the URL the client puts around them."""
    explanation = getattr(error, "explanation", None)
    if explanation:
        return str(explanation)
    return str(error) or type(error).__name__
