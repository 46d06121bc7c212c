"""Readiness probes: one attempt at telling whether a started service is ready.

A check is called with the longest it may take and answers `None` when the
service is ready, or what went wrong ("connection refused", "HTTP 503"),
for the message shown if the service never becomes ready. The supervisor
repeats it; nothing here waits between attempts.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import IO

from assay.model import Probe
from assay.sandbox import reaper

Check = Callable[[float], str | None]
"""One attempt, given its time limit: `None` when ready, else why not."""

_BODY_LIMIT = 1 << 20
_LINE_LIMIT = 1 << 16  # the longest unfinished log line kept for matching
_READ_SIZE = 1 << 20
_OUTPUT_SHOWN = 300  # characters of a failed command probe's output in its message


def checker(probe: Probe, *, log_path: Path, env: dict[str, str], cwd: Path) -> Check:
    """The check for a probe whose strings are resolved; `ValueError` if it cannot work.

    A command probe runs with the service's environment and working directory.
    """
    if probe.kind == "tcp":
        return _tcp(probe.target)
    if probe.kind == "http":
        body = None if probe.body is None else _regex(probe.body)
        return _http(probe.target, probe.status, body)
    if probe.kind == "log":
        return _LogLines(log_path, _regex(probe.target))
    if probe.kind == "command":
        if not probe.argv:
            raise ValueError("a command probe needs a command")
        return _command(probe.argv, env, cwd)
    raise ValueError(f"unknown probe kind {probe.kind!r}")


def describe(probe: Probe) -> str:
    """The probe as the user wrote it, such as `http probe GET http://127.0.0.1:8000/`."""
    if probe.kind == "http":
        return f"http probe GET {probe.target}"
    if probe.kind == "log":
        return f"log probe /{probe.target}/"
    if probe.kind == "command":
        shown = probe.argv[2] if probe.argv[:2] == ("sh", "-c") else shlex.join(probe.argv)
        return f"command probe `{shown}`"
    return f"{probe.kind} probe {probe.target}"


def reason(error: BaseException) -> str:
    """A short, lower-case account of why a connection failed, such as `connection refused`."""
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        return reason(error.reason)
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host: {error.strerror}"
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return text[:1].lower() + text[1:]


def signal_name(number: int) -> str:
    """`SIGKILL` for 9; the number for a signal Python does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid regex /{pattern}/: {error}") from None


def _tcp(target: str) -> Check:
    host, _, port_text = target.rpartition(":")
    if not host or not port_text.isdigit():
        raise ValueError(f"a tcp probe needs HOST:PORT, not {target!r}")
    address = (host.strip("[]"), int(port_text))

    def check(timeout: float) -> str | None:
        try:
            with socket.create_connection(address, timeout):
                return None
        except OSError as error:
            return reason(error)

    return check


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Leaves a redirect as the answer: a 3xx is a ready service, and `status` may want it."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def _http(url: str, status: int | None, body: re.Pattern[str] | None) -> Check:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"an http probe needs an http:// or https:// URL, not {url!r}")
    # A proxy from the environment must not stand between Assay and a local service.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)

    def check(timeout: float) -> str | None:
        try:
            with opener.open(url, timeout=timeout) as response:
                code, content = response.status, response.read(_BODY_LIMIT)
        except urllib.error.HTTPError as error:
            with error:
                code, content = error.code, error.read(_BODY_LIMIT)
        except (OSError, http.client.HTTPException) as error:
            return reason(error)
        if status is not None and code != status:
            return f"HTTP {code}, expected {status}"
        if status is None and not 200 <= code < 400:
            return f"HTTP {code}"
        if body is not None and not body.search(content.decode(errors="replace")):
            return f"HTTP {code}, but the body does not match /{body.pattern}/"
        return None

    return check


class _LogLines:
    """Looks for a line matching `pattern` in the log, reading only what is new each time."""

    def __init__(self, path: Path, pattern: re.Pattern[str]) -> None:
        self.path = path
        self.pattern = pattern
        self.offset = 0
        self.rest = b""  # the unfinished last line

    def __call__(self, timeout: float) -> str | None:
        try:
            with self.path.open("rb") as log:
                log.seek(self.offset)
                while chunk := log.read(_READ_SIZE):
                    self.offset += len(chunk)
                    if self._search(chunk):
                        return None
        except OSError as error:
            return reason(error)
        # A line still being written (a prompt, say) may match already.
        if self.pattern.search(self.rest.decode(errors="replace")):
            return None
        return f"no line of its log matches /{self.pattern.pattern}/"

    def _search(self, chunk: bytes) -> bool:
        lines = (self.rest + chunk).split(b"\n")
        self.rest = lines.pop()[-_LINE_LIMIT:]
        return any(
            self.pattern.search(line.rstrip(b"\r").decode(errors="replace")) for line in lines
        )


def _command(argv: tuple[str, ...], env: dict[str, str], cwd: Path) -> Check:
    def check(timeout: float) -> str | None:
        # A file, not a pipe: a background child holding a pipe open would block the read.
        with tempfile.TemporaryFile() as output:
            try:
                code = _run(argv, env, cwd, output, timeout)
            except OSError as error:
                return f"cannot run {argv[0]!r}: {error.strerror or error}"
            if code == 0:
                return None
            output.seek(max(0, os.fstat(output.fileno()).st_size - 4 * _OUTPUT_SHOWN))
            text = " ".join(output.read().decode(errors="replace").split())
            said = f": {text[-_OUTPUT_SHOWN:]}" if text else ""
            if code is None:
                return f"did not finish within {timeout:g}s{said}"
            if code < 0:
                return f"killed by {signal_name(-code)}{said}"
            return f"exit code {code}{said}"

    return check


def _run(
    argv: tuple[str, ...], env: dict[str, str], cwd: Path, output: IO[bytes], timeout: float
) -> int | None:
    """Run a probe command in a group of its own; its exit code, or None if it took too long."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # Sweeps of escaped test processes reap exited children they do not know of; this
    # one's exit code is ours to read.
    reaper.leaders.add(proc.pid)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        # Whatever it left running (or itself, if too slow) goes; it is only a probe.
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        reaper.leaders.discard(proc.pid)
