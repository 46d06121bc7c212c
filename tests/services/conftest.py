"""Real services for the supervisor's tests: specs built directly, stopped afterwards.

Processes are found by a marker in their command line (a unique `sleep`
duration), as in the sandbox's tests; nothing is faked. Waits have generous
limits only so that a broken build fails instead of hanging; no test checks
how long anything took.
"""

from __future__ import annotations

import secrets
import select
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from assay import services
from assay.model import Location, ServiceSpec

PATIENCE = 30.0


class Supervisor:
    """Builds service specs for a suite file under `root` and starts them into `root/logs`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.suite_file = root / "svc.assay.yaml"
        self.logs = root / "logs"
        self.started: list[services.Service] = []

    def spec(self, run: str | tuple[str, ...], *, name: str = "svc", **changes: Any) -> ServiceSpec:
        """A service of the suite file, as the spec loader would make it."""
        location = Location(self.suite_file, 2, 3)
        return ServiceSpec(name, location, self.suite_file, run, **changes)

    def start(self, spec: ServiceSpec, **options: Any) -> services.Service:
        """`services.start`, remembering the service so that the test's end stops it."""
        service = services.start(spec, logs_dir=self.logs, **options)
        self.started.append(service)
        return service

    def stop_all(self) -> None:
        """Stop everything a test started and left running."""
        for service in self.started:
            service.stop()

    @staticmethod
    def marked(marker: str) -> list[psutil.Process]:
        """Live (not zombie) processes whose command line mentions `marker`."""
        found = []
        for proc in psutil.process_iter(["cmdline", "status"]):
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(marker in part for part in proc.info["cmdline"] or ()):
                found.append(proc)
        return found

    @staticmethod
    def gone(pid: int) -> bool:
        """Whether no process `pid` runs (a zombie waiting to be reaped counts as gone)."""
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    @staticmethod
    def readable(fd: int) -> bool:
        """Whether `fd` becomes readable."""
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(PATIENCE * 1000))

    @staticmethod
    def wait_for(path: Path) -> None:
        """Block until `path` exists."""
        deadline = time.monotonic() + PATIENCE
        while not path.exists() and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        assert path.exists(), f"{path} was never created"


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    """A place to start services from; whatever a test leaves running is stopped afterwards."""
    supervisor = Supervisor(tmp_path)
    try:
        yield supervisor
    finally:
        supervisor.stop_all()


@pytest.fixture
def marker() -> str:
    """Digits unique to this test, used as `sleep` durations to find its processes."""
    return f"97{secrets.randbelow(10**7):07d}"
