"""Real servers as services: Redis, started on a free port and stopped without a trace."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from assay.model import Probe
from fixtures.projects import require_program

if TYPE_CHECKING:
    from conftest import Supervisor

REDIS = (
    "redis-server",
    "--port",
    "${{ port }}",
    "--bind",
    "${{ host }}",
    "--save",
    "",
    "--appendonly",
    "no",
)


@pytest.mark.parametrize(
    "probe",
    [
        Probe("command", argv=("redis-cli", "-p", "${{ port }}", "ping"), timeout=20),
        Probe("tcp", "${{ host }}:${{ port }}", timeout=20),
        Probe("log", "Ready to accept connections", timeout=20),
    ],
    ids=["command", "tcp", "log"],
)
def test_redis_as_a_service(supervisor: Supervisor, probe: Probe) -> None:
    require_program("redis-server")
    require_program("redis-cli")
    service = supervisor.start(supervisor.spec(REDIS, name="redis", ready=probe))

    def cli(*args: str) -> str:
        argv = ["redis-cli", "-p", service.values["port"], *args]
        return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout

    assert cli("set", "k", "v") == "OK\n"
    assert cli("get", "k") == "v\n"
    service.stop()
    assert supervisor.gone(service.pid)
