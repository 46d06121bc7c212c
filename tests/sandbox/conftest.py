"""A real `ProcessSandbox` with output files on disk, and ways to find what it left behind.

Processes are found by a marker in their command line (a unique `sleep`
duration) or by the sandbox's cookie in `/proc/*/environ`; nothing is faked.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from assay.model import Limits
from assay.sandbox import Cancellation, ProcessOutcome, ProcessRequest, ProcessSandbox
from assay.sandbox.reaper import COOKIE


class Box:
    """Runs commands in a sandbox with stdout and stderr going to files under `root`."""

    def __init__(self, root: Path, sandbox: ProcessSandbox, cancel: Cancellation) -> None:
        self.root = root
        self.sandbox = sandbox
        self.cancel = cancel
        self.stdout_path = root / "stdout.log"
        self.stderr_path = root / "stderr.log"
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        self.stdout = os.open(self.stdout_path, flags, 0o600)
        self.stderr = os.open(self.stderr_path, flags, 0o600)
        self.env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C"}

    def run(
        self,
        argv: tuple[str, ...] | str,
        *,
        timeout: float | None = 30.0,
        idle_timeout: float | None = None,
        grace: float = 0.3,
        limits: Limits | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin: int | None = None,
    ) -> ProcessOutcome:
        """Run `argv` (a string goes through `sh -c`) to its end."""
        request = ProcessRequest(
            argv=("sh", "-c", argv) if isinstance(argv, str) else argv,
            cwd=cwd or self.root,
            env=self.env if env is None else env,
            stdout=self.stdout,
            stderr=self.stderr,
            stdin=stdin,
            timeout=timeout,
            idle_timeout=idle_timeout,
            grace=grace,
            limits=limits or Limits(),
        )
        return self.sandbox.execute(request, self.cancel)

    @property
    def out(self) -> str:
        """Everything written to stdout so far."""
        return self.stdout_path.read_text(errors="replace")

    @property
    def err(self) -> str:
        """Everything written to stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    @staticmethod
    def marked(marker: str) -> list[psutil.Process]:
        """Live processes whose command line mentions `marker`."""
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            if any(marker in part for part in proc.info["cmdline"] or ()):
                found.append(proc)
        return found

    def cookie_holders(self) -> list[int]:
        """Pids of processes whose environment carries one of this sandbox's cookies."""
        cookie = f"{COOKIE}={self.sandbox.run_id}-".encode()
        holders = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    variables = f.read().split(b"\0")
            except OSError:
                continue
            if any(v.startswith(cookie) for v in variables):
                holders.append(int(entry))
        return holders

    @staticmethod
    def zombie_children() -> set[int]:
        """Children of this process that have exited and are not yet reaped."""
        zombies = set()
        for child in psutil.Process().children():
            try:
                if child.status() == psutil.STATUS_ZOMBIE:
                    zombies.add(child.pid)
            except psutil.NoSuchProcess:
                continue
        return zombies

    def close(self) -> None:
        """Close the output files."""
        os.close(self.stdout)
        os.close(self.stderr)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    """A fresh sandbox and cancellation flag; whatever survives is killed afterwards."""
    sandbox = ProcessSandbox()
    cancel = Cancellation()
    box = Box(tmp_path, sandbox, cancel)
    try:
        yield box
    finally:
        sandbox.close()
        cancel.close()
        box.close()


@pytest.fixture
def workdir(box: Box) -> Path:
    """The attempt's work dir: a fresh directory beside the box's output files."""
    path = box.root / "work"
    path.mkdir()
    return path


@pytest.fixture
def marker() -> str:
    """Digits unique to this test, used as `sleep` durations to find its processes."""
    return f"98{secrets.randbelow(10**7):07d}"
