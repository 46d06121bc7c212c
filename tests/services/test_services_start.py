"""Starting a service: its values, environment, working directory and what it needs."""

from __future__ import annotations

import sys
import urllib.request
from typing import TYPE_CHECKING

import pytest

from assay.model import Probe
from assay.services import ServiceError

if TYPE_CHECKING:
    from conftest import Supervisor

HTTP_SERVER = (sys.executable, "-m", "http.server", "${{ port }}", "--bind", "127.0.0.1")


def test_an_http_server_is_ready_serves_and_leaves_nothing(supervisor: Supervisor) -> None:
    (supervisor.root / "hello.txt").write_text("hello\n")
    spec = supervisor.spec(
        HTTP_SERVER, name="web", ready=Probe("http", "http://${{ host }}:${{ port }}/")
    )
    service = supervisor.start(spec)
    port = service.values["port"]
    assert service.values == {
        "url": f"http://127.0.0.1:{port}",
        "host": "127.0.0.1",
        "port": port,
        "log": str(supervisor.logs / "web.log"),
    }
    assert service.log_path == supervisor.logs / "web.log"
    with urllib.request.urlopen(service.values["url"] + "/hello.txt", timeout=10) as response:
        assert response.read() == b"hello\n"
    assert service.died() is None

    service.stop()
    assert supervisor.gone(service.pid)
    assert service.fileno() == -1
    assert service.died() is None  # stopped, not dead
    service.stop()  # a second stop does nothing
    assert "GET /hello.txt" in service.tail()  # the server logs requests to stderr


def test_without_a_probe_it_is_ready_once_started(supervisor: Supervisor, marker: str) -> None:
    service = supervisor.start(supervisor.spec(f"exec sleep {marker}"))
    assert [p.pid for p in supervisor.marked(marker)] == [service.pid]
    service.stop()
    assert supervisor.marked(marker) == []


def test_the_environment_and_working_directory(supervisor: Supervisor) -> None:
    (supervisor.root / "sub").mkdir()
    spec = supervisor.spec(
        'echo "in $(pwd)"; echo "keep=$KEEP drop=${DROP-unset} port=$PORT color=$NO_COLOR"; '
        "echo ready; exec sleep 600",
        env=(("DROP", None), ("PORT", "${{ port }}")),
        cwd="sub",
        ready=Probe("log", "^ready$"),
    )
    service = supervisor.start(spec, environ={"KEEP": "1", "DROP": "x", "PATH": "/usr/bin:/bin"})
    port = service.values["port"]
    assert service.tail().splitlines()[:2] == [
        f"in {supervisor.root / 'sub'}",
        f"keep=1 drop=unset port={port} color=1",
    ]


def test_without_inherit_env_only_path_is_kept(supervisor: Supervisor) -> None:
    spec = supervisor.spec(
        'echo "keep=${KEEP-unset} path=$PATH"; echo ready; exec sleep 600',
        inherit_env=False,
        ready=Probe("log", "^ready$"),
    )
    service = supervisor.start(spec, environ={"KEEP": "1", "PATH": "/usr/bin:/bin"})
    assert service.tail().splitlines()[0] == "keep=unset path=/usr/bin:/bin"


def test_a_service_uses_what_it_needs(supervisor: Supervisor) -> None:
    db = supervisor.start(supervisor.spec("exec sleep 600", name="db"))
    app_spec = supervisor.spec(
        'echo "db at ${{ services.db.url }} port ${{ services.db.port }}"; exec sleep 600',
        name="app",
        ready=Probe("log", r"^db at http://127\.0\.0\.1:\d+ port \d+$"),
    )
    app = supervisor.start(app_spec, needs={"db": db.values})
    port = db.values["port"]
    assert app.tail() == f"db at http://127.0.0.1:{port} port {port}"
    assert app.values["port"] != port


def test_two_instances_of_one_service_have_their_own_logs(supervisor: Supervisor) -> None:
    spec = supervisor.spec("exec sleep 600", name="db")
    first, second = supervisor.start(spec), supervisor.start(spec)
    assert (first.log_path.name, second.log_path.name) == ("db.log", "db-2.log")
    assert first.values["port"] != second.values["port"]


@pytest.mark.parametrize(
    ("run", "changes", "message"),
    [
        (
            "echo ${{ services.db.port }}",
            {},
            "service 'svc': unknown variable 'services.db.port'",
        ),
        ("echo ${{ ports.admin }}", {}, "ports.admin"),
        (("no-such-program-for-assay",), {}, "cannot run 'no-such-program-for-assay'"),
        ("true", {"cwd": "missing"}, "working directory"),
        ("true", {"ready": Probe("log", "(")}, "invalid regex /(/"),
    ],
    ids=["unknown-service", "unknown-port", "no-program", "no-cwd", "bad-regex"],
)
def test_what_cannot_start_says_why(
    supervisor: Supervisor, run: str | tuple[str, ...], changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ServiceError) as raised:
        supervisor.start(supervisor.spec(run, **changes))
    assert message in str(raised.value)
