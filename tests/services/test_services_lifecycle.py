"""A running service: crashes noticed through its pidfd, and stops that leave nothing behind."""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

import pytest

from assay.model import Probe
from assay.sandbox import Cancellation
from assay.services import ServiceError

if TYPE_CHECKING:
    from conftest import Supervisor

# Ignores TERM: only KILL ends it.
STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)
# The probe notes each attempt, so a test knows start() is probing (the process is up).
NEVER_READY = Probe("command", argv=("sh", "-c", "touch probed; exit 1"), timeout=60)


def test_a_crash_is_reported_with_the_signal_and_the_log(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        "echo serving; exec sleep 600", name="api", ready=Probe("log", "^serving$")
    )
    service = supervisor.start(spec)
    assert service.died() is None
    os.kill(service.pid, signal.SIGKILL)
    assert supervisor.readable(service.fileno())
    assert service.died() == (
        f"service 'api' was killed by SIGKILL\nlast lines of its log {service.log_path}:\n  serving"
    )
    service.stop()
    assert service.fileno() == -1
    assert service.died() is not None  # still the crash, not the stop


def test_an_exit_is_reported_with_its_code(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        "echo serving; while [ ! -e fail ]; do sleep 0.01; done; echo 'fatal: disk full'; exit 3",
        ready=Probe("log", "^serving$"),
    )
    service = supervisor.start(spec)
    (supervisor.root / "fail").touch()
    assert supervisor.readable(service.fileno())
    died = service.died()
    assert died is not None
    assert died.startswith("service 'svc' exited with code 3\n")
    assert died.endswith("\n  serving\n  fatal: disk full")


def test_a_service_ignoring_term_is_killed_after_grace(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        (sys.executable, "-c", STUBBORN), grace=0.2, ready=Probe("log", "^ready$")
    )
    service = supervisor.start(spec)
    service.stop()
    assert supervisor.gone(service.pid)


def test_children_and_escaped_processes_are_stopped(supervisor: Supervisor, marker: str) -> None:
    spec = supervisor.spec(
        f"sleep {marker} & setsid sh -c 'echo escaped; exec sleep {marker}' & wait",
        ready=Probe("log", "^escaped$"),
    )
    service = supervisor.start(spec)
    running = supervisor.marked(marker)
    assert len(running) >= 3  # the shell, its child, and the one in a session of its own
    assert any(os.getsid(p.pid) != service.pid for p in running)
    service.stop()
    assert supervisor.marked(marker) == []


def test_many_lines_leave_the_last_in_the_tail(supervisor: Supervisor) -> None:
    spec = supervisor.spec("seq 1 30; echo done; exec sleep 600", ready=Probe("log", "^done$"))
    service = supervisor.start(spec)
    assert service.tail().splitlines() == [*map(str, range(12, 31)), "done"]
    assert service.tail(2) == "30\ndone"


def test_cancelling_stops_a_service_while_probing(supervisor: Supervisor, marker: str) -> None:
    cancel = Cancellation()
    spec = supervisor.spec(f"exec sleep {marker}", name="slow", ready=NEVER_READY)

    def cancel_when_probing() -> None:
        supervisor.wait_for(supervisor.root / "probed")
        cancel.cancel("interrupted")

    thread = threading.Thread(target=cancel_when_probing)
    thread.start()
    try:
        with pytest.raises(ServiceError, match=r"^starting service 'slow' was cancelled"):
            supervisor.start(spec, cancel=cancel)
    finally:
        thread.join()
        cancel.close()
    assert supervisor.marked(marker) == []


def test_ctrl_c_while_probing_stops_the_service(supervisor: Supervisor, marker: str) -> None:
    spec = supervisor.spec(f"exec sleep {marker}", ready=NEVER_READY)

    def interrupt_when_probing() -> None:
        supervisor.wait_for(supervisor.root / "probed")
        _thread.interrupt_main()

    thread = threading.Thread(target=interrupt_when_probing)
    thread.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            supervisor.start(spec)
    finally:
        thread.join()
    assert supervisor.marked(marker) == []
