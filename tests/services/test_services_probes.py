"""Readiness probes against real processes, and what a service that never gets ready reports."""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING

import pytest

from assay.model import Probe
from assay.services import ServiceError

if TYPE_CHECKING:
    from conftest import Supervisor

HTTP_SERVER = (sys.executable, "-m", "http.server", "${{ port }}", "--bind", "127.0.0.1")
ADDRESS = "${{ host }}:${{ port }}"
URL = "${{ services.web.url }}/"
# Listens only after printing and a pause, so a probe that passes at once would be wrong.
LATE_LISTENER = (
    sys.executable,
    "-c",
    "import socket, sys, time; print('starting', flush=True); time.sleep(0.3); "
    "s = socket.create_server(('127.0.0.1', int(sys.argv[1]))); print('listening', flush=True); "
    "time.sleep(600)",
    "${{ port }}",
)


def connects(port: str) -> bool:
    """Whether something listens on `port` of 127.0.0.1."""
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=10):
            return True
    except OSError:
        return False


def test_tcp_probe_waits_for_the_port(supervisor: Supervisor) -> None:
    spec = supervisor.spec(LATE_LISTENER, ready=Probe("tcp", "${{ host }}:${{ port }}"))
    service = supervisor.start(spec)
    assert connects(service.values["port"])


def test_log_probe_waits_for_a_line(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        'echo starting; sleep 0.2; printf "listening on %s\\n" ${{ port }}; exec sleep 600',
        ready=Probe("log", r"^listening on \d+$"),
    )
    service = supervisor.start(spec)
    assert service.tail() == f"starting\nlistening on {service.values['port']}"


def test_log_probe_matches_a_line_not_yet_ended(supervisor: Supervisor) -> None:
    spec = supervisor.spec("printf 'ready> '; exec sleep 600", ready=Probe("log", "^ready>"))
    assert supervisor.start(spec).tail() == "ready> "


def test_command_probe_runs_until_it_exits_zero(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        "sleep 0.2; touch up; exec sleep 600",
        ready=Probe("command", argv=("sh", "-c", "test -e up")),
    )
    supervisor.start(spec)
    assert (supervisor.root / "up").exists()


def test_command_probe_sees_the_service_port(supervisor: Supervisor) -> None:
    check = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])))"
    spec = supervisor.spec(
        LATE_LISTENER, ready=Probe("command", argv=(sys.executable, "-c", check, "${{ port }}"))
    )
    service = supervisor.start(spec)
    assert connects(service.values["port"])


@pytest.mark.parametrize(
    ("probe", "found"),
    [
        (Probe("http", URL, status=200, body="Directory listing"), None),
        (Probe("http", URL, status=201, timeout=0.2), "HTTP 200, expected 201"),
        (
            Probe("http", URL, body="^nothing like this", timeout=0.2),
            "HTTP 200, but the body does not match /^nothing like this/",
        ),
        (Probe("http", URL + "missing", timeout=0.2), "HTTP 404"),
    ],
    ids=["matches", "status", "body", "not-found"],
)
def test_http_probe_checks_status_and_body(
    supervisor: Supervisor, probe: Probe, found: str | None
) -> None:
    # The probe asks a server that is already up, so every attempt gets the same answer.
    web = supervisor.start(supervisor.spec(HTTP_SERVER, name="web", ready=Probe("tcp", ADDRESS)))
    spec = supervisor.spec("exec sleep 600", name="client", ready=probe)
    if found is None:
        supervisor.start(spec, needs={"web": web.values})
        return
    with pytest.raises(ServiceError) as raised:
        supervisor.start(spec, needs={"web": web.values})
    assert f"failed: {found} (its log" in str(raised.value)


def test_a_service_never_ready_reports_the_probe_and_its_log(
    supervisor: Supervisor, marker: str
) -> None:
    spec = supervisor.spec(
        f"echo 'cannot bind: permission denied' >&2; exec sleep {marker}",
        name="api",
        ready=Probe("tcp", "127.0.0.1:${{ port }}", timeout=0.3),
    )
    with pytest.raises(ServiceError) as raised:
        supervisor.start(spec)
    message = str(raised.value)
    headline, tail = message.split("\n", 1)
    assert headline.startswith("service 'api' was not ready after 0.3s: tcp probe 127.0.0.1:")
    assert headline.endswith(" failed: connection refused")
    log = supervisor.logs / "api.log"
    assert tail == f"last lines of its log {log}:\n  cannot bind: permission denied"
    assert supervisor.marked(marker) == []


def test_a_failing_command_probe_shows_its_output(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        "exec sleep 600",
        ready=Probe("command", argv=("sh", "-c", "echo not yet; exit 3"), timeout=0.2),
    )
    with pytest.raises(ServiceError) as raised:
        supervisor.start(spec)
    assert "command probe `echo not yet; exit 3` failed: exit code 3: not yet" in str(raised.value)
    assert "its log" in str(raised.value) and "is empty" in str(raised.value)


def test_a_service_exiting_while_starting_says_how(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        "echo 'reading config'; echo 'config missing' >&2; exit 3",
        name="api",
        ready=Probe("tcp", "127.0.0.1:${{ port }}"),
    )
    with pytest.raises(ServiceError) as raised:
        supervisor.start(spec)
    assert str(raised.value) == (
        "service 'api' exited with code 3 while starting\n"
        f"last lines of its log {supervisor.logs / 'api.log'}:\n"
        "  reading config\n"
        "  config missing"
    )


def test_without_a_probe_an_early_exit_is_still_reported(supervisor: Supervisor) -> None:
    spec = supervisor.spec("echo 'bad option' >&2; exit 2", name="api")
    # Whether start() sees the exit depends on how fast the process dies; either way says so.
    try:
        service = supervisor.start(spec)
    except ServiceError as error:
        message = str(error)
    else:
        assert supervisor.readable(service.fileno())
        message = service.died() or ""
    assert message.startswith("service 'api' exited with code 2")
    assert message.endswith("\n  bad option")


def test_a_service_killed_while_starting_names_the_signal(supervisor: Supervisor) -> None:
    spec = supervisor.spec("kill -USR1 $$", ready=Probe("tcp", "127.0.0.1:${{ port }}"))
    with pytest.raises(ServiceError, match=r"^service 'svc' was killed by SIGUSR1 while starting"):
        supervisor.start(spec)
