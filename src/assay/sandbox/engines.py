"""The container engine behind the `container` sandbox: Docker's Engine API, Docker or Podman.

`Engine` makes the few calls the sandbox needs through the `docker`
package's low-level client, and smooths over where Podman's
Docker-compatible service differs: its wait (which looks only every 250 ms),
and the default limits it drops once any limit is given. `Stream` reads a
container's attached output as Docker frames it, and sends its input.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
from collections.abc import Iterator
from typing import Any

from assay.errors import UserError
from assay.sandbox.protocol import ProcessRequest

API_VERSION = "1.41"
"""The Engine API version asked for: Docker 20.10 and later, and Podman 3 and later speak it."""
_CHUNK = 65536


def default_sockets() -> list[str]:
    """Where Docker and Podman listen by default, in the order they are tried."""
    sockets = ["/var/run/docker.sock", "/run/podman/podman.sock"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        sockets.append(f"{runtime}/podman/podman.sock")
    return sockets


class Engine:
    """The few Engine API calls the sandbox makes, over the `docker` package's client."""

    def __init__(self, sdk: Any, client: Any, url: str) -> None:
        """Use `client` (a `docker.DockerClient` of the `docker` module `sdk`), talking to `url`."""
        self.sdk = sdk
        self.client = client
        self.api = client.api
        self.url = url
        self.podman = False
        self.failures: tuple[type[Exception], ...] = (sdk.errors.DockerException, OSError)

    @classmethod
    def connect(cls, host: str | None) -> Engine:
        """The engine at `host`, else `DOCKER_HOST`, else a default socket; `UserError` if none."""
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

    def create(
        self,
        request: ProcessRequest,
        image: str,
        user: str,
        mounts: tuple[str, ...],
        labels: dict[str, str],
    ) -> str:
        """Create (not start) a container of `image` for `request`; its id.

        `mounts` are host directories, mounted read-write at the same paths.
        """
        isolation = request.isolation
        memory = [m for m in (isolation.memory_bytes, request.limits.memory_bytes) if m]
        host_config = self.api.create_host_config(
            binds={path: {"bind": path, "mode": "rw"} for path in mounts},
            network_mode=None if isolation.network else "none",
            mem_limit=min(memory) if memory else None,
            memswap_limit=min(memory) if memory else None,  # no swap beyond the limit
            nano_cpus=round(isolation.cpus * 1e9) if isolation.cpus else None,
            pids_limit=isolation.pids,
            ulimits=self._ulimits(request),
            security_opt=["no-new-privileges"],
        )
        created = self.api.create_container(
            image,
            command=list(request.argv),
            user=user,
            working_dir=str(request.cwd),
            environment=dict(request.env),
            labels=labels,
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

    def attach(self, container: str, stdin: bool) -> Stream:
        """The container's output (and input) stream; attach before starting it."""
        params = {"stdout": 1, "stderr": 1, "stream": 1, "logs": 1, "stdin": int(stdin)}
        return Stream(self.api.attach_socket(container, params=params))

    def start(self, container: str) -> None:
        """Start a created container."""
        self.api.start(container)

    def wait(self, container: str) -> int:
        """The container's exit status, once it has ended."""
        if self.podman:
            # Podman's Docker-compatible wait looks every 250 ms, longer than a tiny test
            # runs; its own API can be asked to look more often.
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
        """Close the client's connections (it connects again if used)."""
        self.client.close()


class Stream:
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
        """Send everything readable from `fd` as the container's input, end it, close `fd`."""
        try:
            with contextlib.suppress(OSError):
                while data := os.read(fd, _CHUNK):
                    self.sock.sendall(data)
                self.sock.shutdown(socket.SHUT_WR)
        finally:
            os.close(fd)

    def close(self) -> None:
        """End the stream both ways and release its socket."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.io.close()


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


def _reason(error: Exception) -> str:
    """The engine's own words for `error`, without the URL the client puts around them."""
    explanation = getattr(error, "explanation", None)
    if explanation:
        return str(explanation)
    return str(error) or type(error).__name__
