"""The `bwrap` sandbox: what a command can see, write and reach, and that nothing outlives it.

Every test runs real commands in real namespaces through the `Sandbox`
protocol. Without bwrap they skip, unless `ASSAY_REQUIRE_SERVICES=1`.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assay.model import Isolation, Limits
from assay.sandbox import BwrapSandbox, ProcessOutcome, ProcessRequest
from fixtures.projects import require_program

if TYPE_CHECKING:
    from conftest import Box


@pytest.fixture
def bwrap(box: Box) -> Iterator[BwrapSandbox]:
    """A bwrap sandbox starting its commands through the box's process sandbox."""
    require_program("bwrap")
    sandbox = BwrapSandbox(box.sandbox)
    try:
        yield sandbox
    finally:
        sandbox.close()


def run(
    box: Box,
    sandbox: BwrapSandbox,
    workdir: Path,
    command: str | tuple[str, ...],
    *,
    isolation: Isolation | None = None,
    timeout: float = 30.0,
    limits: Limits | None = None,
    stdin: int | None = None,
) -> ProcessOutcome:
    """Run `command` (a string goes through `sh -c`) in `workdir` inside the sandbox."""
    request = ProcessRequest(
        argv=("sh", "-c", command) if isinstance(command, str) else command,
        cwd=workdir,
        env=box.env,
        stdout=box.stdout,
        stderr=box.stderr,
        stdin=stdin,
        timeout=timeout,
        grace=0.3,
        limits=limits or Limits(),
        isolation=isolation or Isolation(kind="bwrap"),
        workdir=workdir,
    )
    return sandbox.execute(request, box.cancel)


def test_exit_code_and_output(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    outcome = run(box, bwrap, workdir, "echo to-out; echo to-err >&2; exit 3")
    assert outcome.exit_code == 3
    assert outcome.error is None
    assert (box.out, box.err) == ("to-out\n", "to-err\n")


def test_stdin_is_read_from_a_file(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    (box.root / "input.txt").write_text("first\n")
    fd = os.open(box.root / "input.txt", os.O_RDONLY)
    try:
        outcome = run(box, bwrap, workdir, ("cat",), stdin=fd)
    finally:
        os.close(fd)
    assert outcome.exit_code == 0
    assert box.out == "first\n"


@pytest.mark.parametrize(
    "path", ["/usr/assay-probe", "/assay-probe", "/etc/assay-probe"], ids=["usr", "root", "etc"]
)
def test_the_root_is_read_only(box: Box, bwrap: BwrapSandbox, workdir: Path, path: str) -> None:
    outcome = run(box, bwrap, workdir, f"touch {path}")
    assert outcome.exit_code != 0
    assert "Read-only file system" in box.err
    assert not os.path.exists(path)


def test_the_work_dir_is_writable(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    (workdir / "input.txt").write_text("given\n")
    outcome = run(box, bwrap, workdir, "cat input.txt; echo made > made.txt; mkdir sub")
    assert outcome.exit_code == 0, box.err
    assert box.out == "given\n"
    assert (workdir / "made.txt").read_text() == "made\n"
    assert (workdir / "sub").is_dir()


def test_tmp_is_private(box: Box, bwrap: BwrapSandbox, workdir: Path, marker: str) -> None:
    written = Path(f"/tmp/assay-private-{marker}")
    # The box's own files are under the host's /tmp too, beside the work dir.
    outcome = run(
        box,
        bwrap,
        workdir,
        f"echo secret > {written} && cat {written} && test ! -e {box.stdout_path}",
    )
    assert outcome.exit_code == 0, box.err
    assert box.out == "secret\n"
    assert not written.exists()


def connect(port: int) -> tuple[str, ...]:
    """A command that connects to `port` on 127.0.0.1: exit 0 if it could."""
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5).close()"
    return (sys.executable, "-c", code)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on the host's 127.0.0.1."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server


def test_there_is_no_network(
    box: Box, bwrap: BwrapSandbox, workdir: Path, listener: socket.socket
) -> None:
    outcome = run(box, bwrap, workdir, connect(listener.getsockname()[1]))
    assert outcome.exit_code == 1
    assert "ConnectionRefusedError" in box.err


def test_network_true_shares_the_hosts(
    box: Box, bwrap: BwrapSandbox, workdir: Path, listener: socket.socket
) -> None:
    isolation = Isolation(kind="bwrap", network=True)
    outcome = run(box, bwrap, workdir, connect(listener.getsockname()[1]), isolation=isolation)
    assert outcome.exit_code == 0, box.err
    accepted, _ = listener.accept()
    accepted.close()


@pytest.mark.parametrize(
    "leave",
    ["sleep {m} &", "setsid sleep {m} &", "(setsid sleep {m} &)"],
    ids=["background", "setsid", "double-fork"],
)
def test_descendants_die_with_the_command(
    box: Box, bwrap: BwrapSandbox, workdir: Path, marker: str, leave: str
) -> None:
    outcome = run(box, bwrap, workdir, f"{leave.format(m=marker)}\necho started")
    assert outcome.exit_code == 0
    assert box.out == "started\n"
    assert box.marked(marker) == []


def test_processes_of_the_host_are_not_visible(
    box: Box, bwrap: BwrapSandbox, workdir: Path
) -> None:
    outcome = run(box, bwrap, workdir, f"test ! -e /proc/{os.getpid()} && echo $$")
    assert outcome.exit_code == 0
    assert int(box.out) < 10  # numbered from 1 in a PID namespace of its own


@pytest.mark.slow
def test_a_timeout_kills_everything(
    box: Box, bwrap: BwrapSandbox, workdir: Path, marker: str
) -> None:
    outcome = run(box, bwrap, workdir, f"sleep {marker}1 & sleep {marker}2", timeout=0.5)
    assert outcome.stopped == "timeout"
    assert outcome.exit_code is None
    assert box.marked(marker) == []


def test_cancelling_stops_it(box: Box, bwrap: BwrapSandbox, workdir: Path, marker: str) -> None:
    box.cancel.cancel("interrupted")
    outcome = run(box, bwrap, workdir, f"sleep {marker}")
    assert outcome.stopped == "cancelled"
    assert box.marked(marker) == []


def test_binds_are_visible_and_read_only(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    data = box.root / "data"
    data.mkdir()
    (data / "fixture.txt").write_text("shared\n")
    isolation = Isolation(kind="bwrap", binds=(str(data),))
    outcome = run(
        box, bwrap, workdir, f"cat {data}/fixture.txt; touch {data}/new", isolation=isolation
    )
    assert outcome.exit_code != 0
    assert box.out == "shared\n"
    assert "Read-only file system" in box.err
    assert not (data / "new").exists()


def test_a_missing_bind_path_is_an_error(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    missing = box.root / "missing"
    outcome = run(
        box, bwrap, workdir, "true", isolation=Isolation(kind="bwrap", binds=(str(missing),))
    )
    assert outcome.error == f"sandbox 'bwrap': bind path '{missing}' does not exist"
    assert outcome.exit_code is None


def test_a_program_the_sandbox_does_not_show_is_an_error(
    box: Box, bwrap: BwrapSandbox, workdir: Path
) -> None:
    tools = box.root / "tools"
    tools.mkdir()
    (tools / "hidden-tool").write_text("#!/bin/sh\necho hi\n")
    (tools / "hidden-tool").chmod(0o755)
    box.env["PATH"] = f"{tools}:{box.env['PATH']}"
    outcome = run(box, bwrap, workdir, ("hidden-tool",))
    assert outcome.error == (
        f"sandbox 'bwrap': 'hidden-tool' is {tools}/hidden-tool, which the sandbox does not show "
        f"(add {tools} to binds)"
    )
    shown = Isolation(kind="bwrap", binds=(str(tools),))
    assert run(box, bwrap, workdir, ("hidden-tool",), isolation=shown).exit_code == 0
    assert box.out == "hi\n"


def test_a_missing_program_is_reported_as_by_the_process_sandbox(
    box: Box, bwrap: BwrapSandbox, workdir: Path
) -> None:
    outcome = run(box, bwrap, workdir, ("no-such-program-here",))
    assert outcome.error == "cannot run 'no-such-program-here': No such file or directory"


def test_a_script_in_the_work_dir_runs(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    (workdir / "script.sh").write_text("#!/bin/sh\necho from-script\n")
    (workdir / "script.sh").chmod(0o755)
    outcome = run(box, bwrap, workdir, ("./script.sh",))
    assert outcome.exit_code == 0, outcome.error
    assert box.out == "from-script\n"


def test_memory_is_limited(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    isolation = Isolation(kind="bwrap", memory_bytes=256 * 1024 * 1024)
    grab = (sys.executable, "-c", "b = bytearray(1024 * 1024 * 1024)")
    outcome = run(box, bwrap, workdir, grab, isolation=isolation)
    assert outcome.exit_code == 1
    assert "MemoryError" in box.err


def test_the_lower_memory_limit_wins(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    isolation = Isolation(kind="bwrap", memory_bytes=512 * 1024 * 1024)
    limits = Limits(memory_bytes=256 * 1024 * 1024)
    outcome = run(box, bwrap, workdir, "ulimit -v", isolation=isolation, limits=limits)
    assert outcome.exit_code == 0
    assert box.out == f"{256 * 1024}\n"


def test_cpus_pin_the_command(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("pinning needs at least two CPUs to show")
    isolation = Isolation(kind="bwrap", cpus=0.5)
    outcome = run(
        box, bwrap, workdir, "grep Cpus_allowed_list /proc/self/status", isolation=isolation
    )
    assert outcome.exit_code == 0, outcome.error
    allowed = box.out.split()[-1]
    assert allowed.isdigit()  # one CPU, not a list or a range


def test_pids_are_refused(box: Box, bwrap: BwrapSandbox, workdir: Path) -> None:
    outcome = run(box, bwrap, workdir, "true", isolation=Isolation(kind="bwrap", pids=10))
    assert outcome.error == (
        "sandbox 'bwrap': pids cannot be limited without cgroups; use sandbox: container"
    )
