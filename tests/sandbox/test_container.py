"""The `container` sandbox on a real Docker or Podman engine, in a busybox image.

The engine is found as the sandbox finds it: `DOCKER_HOST`, else a default
socket (`/run/podman/podman.sock` is where `scripts/podman-service` puts
Podman's, and where it imports the image). Without an engine or the image
the tests skip, unless `ASSAY_REQUIRE_SERVICES=1`. Timing is never
asserted: only what ended, why, what reached the files, and what is left.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from assay.errors import UserError
from assay.model import Isolation, Limits
from assay.sandbox import Cancellation, ContainerSandbox, ProcessOutcome, ProcessRequest, wait
from assay.sandbox.container import LABEL
from fixtures.containers import IMAGE

if TYPE_CHECKING:
    from conftest import Box


@pytest.fixture
def containers(engine_url: str) -> Iterator[ContainerSandbox]:
    """A container sandbox, closed afterwards."""
    sandbox = ContainerSandbox(engine_url)
    try:
        yield sandbox
    finally:
        sandbox.close()


def request(
    box: Box,
    workdir: Path,
    command: str | tuple[str, ...],
    *,
    timeout: float = 60.0,
    idle_timeout: float | None = None,
    env: dict[str, str] | None = None,
    stdin: int | None = None,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
) -> ProcessRequest:
    """`command` (a string goes through `sh -c`) to run in the busybox image in `workdir`."""
    return ProcessRequest(
        argv=("sh", "-c", command) if isinstance(command, str) else command,
        cwd=workdir,
        env=env or {},
        stdout=box.stdout,
        stderr=box.stderr,
        stdin=stdin,
        timeout=timeout,
        idle_timeout=idle_timeout,
        grace=0.5,
        limits=limits or Limits(),
        isolation=isolation or contained(),
        workdir=workdir,
    )


def contained(image: str = IMAGE, **options: Any) -> Isolation:
    """The `container` isolation in `image` (the busybox one by default)."""
    return Isolation(kind="container", image=image, **options)


def run(
    box: Box, sandbox: ContainerSandbox, workdir: Path, command: str, **options: Any
) -> ProcessOutcome:
    """Run `command` to its end in a container; `options` are `request`'s."""
    return sandbox.execute(request(box, workdir, command, **options), box.cancel)


def left(engine_url: str, sandbox: ContainerSandbox) -> list[str]:
    """Names of the containers, running or not, that carry the sandbox's label (via the SDK)."""
    import docker

    client = docker.DockerClient(base_url=engine_url, version="1.41")
    try:
        found = client.containers.list(all=True, filters={"label": f"{LABEL}={sandbox.run_id}"})
        return [c.name for c in found]
    finally:
        client.close()


def test_output_reaches_the_files(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    outcome = run(box, containers, workdir, "echo to-out; echo to-err >&2; printf 'no newline'")
    assert outcome.exit_code == 0
    assert outcome.error is None
    assert box.out == "to-out\nno newline"
    assert box.err == "to-err\n"


@pytest.mark.parametrize("code", [0, 1, 3, 255], ids=["zero", "one", "three", "255"])
def test_exit_code_is_reported(
    box: Box, containers: ContainerSandbox, workdir: Path, code: int
) -> None:
    outcome = run(box, containers, workdir, f"exit {code}")
    assert outcome.exit_code == code
    assert outcome.signal is None
    assert outcome.stopped is None


def test_large_output_arrives_whole(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    outcome = run(box, containers, workdir, "seq 1 200000; seq 1 50000 >&2")
    assert outcome.exit_code == 0
    assert box.out == "".join(f"{i}\n" for i in range(1, 200001))
    assert box.err == "".join(f"{i}\n" for i in range(1, 50001))


def test_it_runs_as_nobody_by_default(
    box: Box, containers: ContainerSandbox, workdir: Path
) -> None:
    outcome = run(box, containers, workdir, "id -u; id -g")
    assert outcome.exit_code == 0
    assert box.out == "65534\n65534\n"


def test_user_is_the_isolations(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    outcome = run(
        box, containers, workdir, "id -u; touch mine", isolation=contained(user="1000:1000")
    )
    assert outcome.exit_code == 0, box.err
    assert box.out == "1000\n"


def test_the_work_dir_is_mounted_and_writable(
    box: Box, containers: ContainerSandbox, workdir: Path
) -> None:
    (workdir / "input.txt").write_text("given\n")
    outcome = run(box, containers, workdir, "pwd; cat input.txt; echo made > made.txt")
    assert outcome.exit_code == 0, box.err
    assert box.out == f"{workdir}\ngiven\n"
    assert (workdir / "made.txt").read_text() == "made\n"


def test_the_work_dir_is_given_back(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root hands the work dir over to the container's user")
    outcome = run(box, containers, workdir, "mkdir sub && echo made > sub/made.txt")
    assert outcome.exit_code == 0, box.err
    owners = {(p.stat().st_uid, p.stat().st_gid) for p in (workdir, *workdir.rglob("*"))}
    assert owners == {(os.geteuid(), os.getegid())}


def test_the_environment_is_the_requests(
    box: Box, containers: ContainerSandbox, workdir: Path
) -> None:
    outcome = run(box, containers, workdir, "echo $GREETING", env={"GREETING": "hello there"})
    assert outcome.exit_code == 0
    assert box.out == "hello there\n"


def test_stdin_is_read_from_a_file(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    (box.root / "input.txt").write_text("first\nsecond\n")
    fd = os.open(box.root / "input.txt", os.O_RDONLY)
    try:
        outcome = run(box, containers, workdir, "cat; echo end", stdin=fd)
    finally:
        os.close(fd)
    assert outcome.exit_code == 0
    assert box.out == "first\nsecond\nend\n"


def test_there_is_no_network_by_default(
    box: Box, containers: ContainerSandbox, workdir: Path
) -> None:
    outcome = run(box, containers, workdir, "ls /sys/class/net")
    assert outcome.exit_code == 0
    assert box.out.split() == ["lo"]


def test_processes_are_limited(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    outcome = run(
        box,
        containers,
        workdir,
        "for i in $(seq 40); do sleep 5 & done; wait",
        isolation=contained(pids=16),
    )
    assert outcome.exit_code != 0
    assert "can't fork" in box.err


def test_memory_is_limited(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    hog = 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo ${#x}'
    outcome = run(box, containers, workdir, hog, isolation=contained(memory_bytes=32 * 1024 * 1024))
    assert outcome.exit_code == 137 or outcome.signal == 9
    assert box.out == ""


def test_rlimits_apply(box: Box, containers: ContainerSandbox, workdir: Path) -> None:
    limits = Limits(open_files=64, cpu_seconds=30, core_bytes=0)
    outcome = run(box, containers, workdir, "ulimit -n; ulimit -t; ulimit -c", limits=limits)
    assert outcome.exit_code == 0, box.err
    assert box.out == "64\n30\n0\n"


@pytest.mark.slow
def test_a_timeout_kills_and_removes_the_container(
    box: Box, containers: ContainerSandbox, workdir: Path, engine_url: str
) -> None:
    outcome = run(box, containers, workdir, "echo started; sleep 600", timeout=1.0)
    assert outcome.stopped == "timeout"
    assert outcome.exit_code is None
    assert outcome.signal in (9, 15)
    assert box.out == "started\n"
    assert left(engine_url, containers) == []


@pytest.mark.slow
def test_idle_output_stops_the_container(
    box: Box, containers: ContainerSandbox, workdir: Path, engine_url: str
) -> None:
    outcome = run(box, containers, workdir, "echo once; sleep 600", idle_timeout=1.0)
    assert outcome.stopped == "idle"
    assert box.out == "once\n"
    assert left(engine_url, containers) == []


def test_cancelling_stops_and_removes_it(
    box: Box, containers: ContainerSandbox, workdir: Path, engine_url: str
) -> None:
    box.cancel.cancel("interrupted")
    outcome = run(box, containers, workdir, "sleep 600")
    assert outcome.stopped == "cancelled"
    assert left(engine_url, containers) == []


def test_finished_containers_are_removed(
    box: Box, containers: ContainerSandbox, workdir: Path, engine_url: str
) -> None:
    assert run(box, containers, workdir, "true").exit_code == 0
    assert run(box, containers, workdir, "exit 1").exit_code == 1
    assert left(engine_url, containers) == []


def test_close_removes_running_containers(
    box: Box, containers: ContainerSandbox, workdir: Path, engine_url: str
) -> None:
    started = containers.start(request(box, workdir, "echo up; sleep 600"))
    assert not isinstance(started, ProcessOutcome)
    containers.close()
    assert left(engine_url, containers) == []
    cancel = Cancellation()
    try:
        outcome = wait(started, cancel)
    finally:
        cancel.close()
    assert outcome.stopped == "cancelled"
    assert outcome.exit_code is None


def test_an_image_that_is_not_there_is_an_error(
    box: Box, containers: ContainerSandbox, workdir: Path
) -> None:
    outcome = run(
        box, containers, workdir, "true", isolation=contained("localhost/assay-no-such-image:1")
    )
    assert outcome.error == "sandbox 'container': image 'localhost/assay-no-such-image:1' not found"
    assert outcome.exit_code is None


def test_a_program_that_is_not_there_is_an_error(
    box: Box, containers: ContainerSandbox, workdir: Path
) -> None:
    outcome = containers.execute(request(box, workdir, ("no-such-program",)), box.cancel)
    assert outcome.error == f"cannot run 'no-such-program': not found in image {IMAGE!r}"


def test_no_socket_is_an_error(tmp_path: Path) -> None:
    socket = tmp_path / "podman.sock"
    with pytest.raises(UserError) as raised:
        ContainerSandbox(f"unix://{socket}")
    assert str(raised.value) == (
        f"sandbox 'container': no Docker or Podman socket at unix://{socket} (set DOCKER_HOST)"
    )
