"""`Sandboxes`: each request goes to the sandbox its isolation names; set-up errors are outcomes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assay.model import Isolation
from assay.sandbox import ProcessOutcome, ProcessRequest, Sandbox, Sandboxes
from fixtures.projects import require_program

if TYPE_CHECKING:
    from conftest import Box


@pytest.fixture
def sandboxes(box: Box) -> Iterator[Sandboxes]:
    """A router over the box's process sandbox."""
    router = Sandboxes(box.sandbox)
    try:
        yield router
    finally:
        router.close()


def run(box: Box, sandbox: Sandboxes, command: str, isolation: Isolation) -> ProcessOutcome:
    """Run `command` through `sh -c` with `isolation`, in a work dir under the box."""
    workdir = box.root / "work"
    workdir.mkdir(exist_ok=True)
    request = ProcessRequest(
        argv=("sh", "-c", command),
        cwd=workdir,
        env=box.env,
        stdout=box.stdout,
        stderr=box.stderr,
        timeout=30,
        isolation=isolation,
        workdir=workdir,
    )
    return sandbox.execute(request, box.cancel)


def test_it_is_a_sandbox(sandboxes: Sandboxes) -> None:
    sandbox: Sandbox = sandboxes
    assert sandbox.name == "auto"


def test_process_requests_run_on_the_host(box: Box, sandboxes: Sandboxes) -> None:
    outside = box.root / "outside.txt"
    outcome = run(box, sandboxes, f"echo host > {outside}", Isolation())
    assert outcome.exit_code == 0
    assert outside.read_text() == "host\n"


def test_bwrap_requests_run_in_bwrap(box: Box, sandboxes: Sandboxes) -> None:
    require_program("bwrap")
    outside = box.root / "outside.txt"
    outcome = run(box, sandboxes, f"echo private > {outside}", Isolation(kind="bwrap"))
    assert outcome.exit_code == 0  # into the sandbox's private /tmp
    assert not outside.exists()


def test_a_closed_router_starts_sandboxes_again(box: Box, sandboxes: Sandboxes) -> None:
    require_program("bwrap")
    assert run(box, sandboxes, "true", Isolation(kind="bwrap")).exit_code == 0
    sandboxes.close()
    assert run(box, sandboxes, "echo again", Isolation(kind="bwrap")).exit_code == 0
    assert run(box, sandboxes, "echo host", Isolation()).exit_code == 0
    assert box.out == "again\nhost\n"


def test_without_bwrap_its_requests_are_errors(
    box: Box, sandboxes: Sandboxes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # where the router looks for bwrap
    outcome = run(box, sandboxes, "true", Isolation(kind="bwrap"))
    assert outcome.error == "sandbox 'bwrap': bwrap is not installed (Debian package bubblewrap)"
    assert run(box, sandboxes, "true", Isolation()).exit_code == 0  # the rest goes on


def test_without_a_container_engine_its_requests_are_errors(
    box: Box, sandboxes: Sandboxes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = tmp_path / "podman.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    isolation = Isolation(kind="container", image="localhost/assay-busybox")
    outcome = run(box, sandboxes, "true", isolation)
    assert outcome.error == (
        f"sandbox 'container': no Docker or Podman socket at unix://{socket} (set DOCKER_HOST)"
    )


def test_without_the_docker_package_container_requests_are_errors(
    box: Box, sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # what `import docker` sees when missing
    isolation = Isolation(kind="container", image="localhost/assay-busybox")
    outcome = run(box, sandboxes, "true", isolation)
    assert outcome.error == (
        "the docker Python package is not installed: pip install 'assay[container]'"
    )


def test_an_unknown_sandbox_is_an_error(box: Box, sandboxes: Sandboxes) -> None:
    outcome = run(box, sandboxes, "true", Isolation(kind="vm"))
    assert outcome.error == "unknown sandbox 'vm' (choose from process, bwrap, container)"
