"""Free ports: different for every service in the process, and bindable."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from assay.model import Probe
from assay.services.ports import allocate

if TYPE_CHECKING:
    from conftest import Supervisor


def test_ports_are_free_and_never_handed_out_twice() -> None:
    given = [port for _ in range(50) for port in allocate("127.0.0.1", ("a", "b")).values()]
    assert len(set(given)) == len(given)
    for port in given[-4:]:
        with socket.create_server(("127.0.0.1", port)):
            pass


def test_named_ports_are_words_and_values(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        "echo ports ${{ port }} ${{ ports.admin }} ${{ ports.metrics }}; exec sleep 600",
        ports=("port", "admin", "metrics"),
        url="http://${{ host }}:${{ ports.admin }}/admin",
        ready=Probe("log", r"^ports \d+ \d+ \d+$"),
    )
    service = supervisor.start(spec)
    values = service.values
    assert sorted(values) == ["host", "log", "port", "ports.admin", "ports.metrics", "url"]
    ports = [values["port"], values["ports.admin"], values["ports.metrics"]]
    assert len(set(ports)) == 3
    assert service.tail() == "ports " + " ".join(ports)
    assert values["url"] == f"http://127.0.0.1:{values['ports.admin']}/admin"


def test_the_first_port_is_also_port(supervisor: Supervisor) -> None:
    spec = supervisor.spec("exec sleep 600", ports=("http", "admin"))
    values = supervisor.start(spec).values
    assert values["port"] == values["ports.http"] != values["ports.admin"]


def test_two_services_get_different_ports(supervisor: Supervisor) -> None:
    first = supervisor.start(supervisor.spec("exec sleep 600", name="one"))
    second = supervisor.start(supervisor.spec("exec sleep 600", name="two"))
    assert first.values["port"] != second.values["port"]
