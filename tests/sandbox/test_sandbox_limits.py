"""Resource limits (`Limits`) hold for the command and its children; big outputs stay on disk."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

import pytest

from assay.checks import read_output
from assay.checks.outputs import HEAD_BYTES, TAIL_BYTES
from assay.model import Limits

if TYPE_CHECKING:
    from conftest import Box

MiB = 1024 * 1024


def test_open_files_limit(box: Box) -> None:
    outcome = box.run("ulimit -n", limits=Limits(open_files=64))
    assert outcome.exit_code == 0
    assert box.out == "64\n"


def test_open_files_limit_is_enforced(box: Box) -> None:
    code = "import os\nfds = [os.open('/dev/null', os.O_RDONLY) for _ in range(100)]"
    outcome = box.run((sys.executable, "-c", code), limits=Limits(open_files=32))
    assert outcome.exit_code == 1
    assert "Too many open files" in box.err


def test_core_limit_zero(box: Box) -> None:
    outcome = box.run("ulimit -c", limits=Limits(core_bytes=0))
    assert outcome.exit_code == 0
    assert box.out == "0\n"


def test_limits_hold_for_children(box: Box) -> None:
    outcome = box.run(("sh", "-c", "sh -c 'ulimit -n'"), limits=Limits(open_files=50))
    assert outcome.exit_code == 0
    assert box.out == "50\n"


def test_without_limits_nothing_is_lowered(box: Box) -> None:
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    outcome = box.run("ulimit -n")
    assert outcome.exit_code == 0
    expected = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    assert box.out == f"{expected}\n"


def test_limits_do_not_change_argv(box: Box) -> None:
    outcome = box.run(("printf", "[%s]", "a b", "-c", "$X"), limits=Limits(open_files=64))
    assert outcome.exit_code == 0
    assert box.out == "[a b][-c][$X]"


@pytest.mark.slow
def test_cpu_limit_stops_a_busy_loop(box: Box) -> None:
    # The timeout is only a safety net: the CPU limit must end the loop first.
    outcome = box.run("while :; do :; done", timeout=60, limits=Limits(cpu_seconds=1))
    assert outcome.stopped is None
    assert outcome.signal in (signal.SIGXCPU, signal.SIGKILL)


@pytest.mark.parametrize(
    ("allocate", "fits"),
    [(16 * MiB, True), (512 * MiB, False)],
    ids=["within-limit", "over-limit"],
)
def test_memory_limit(box: Box, allocate: int, fits: bool) -> None:
    code = f"b = bytearray({allocate})\nprint('allocated')"
    outcome = box.run((sys.executable, "-c", code), limits=Limits(memory_bytes=256 * MiB))
    if fits:
        assert outcome.exit_code == 0
        assert box.out == "allocated\n"
    else:
        assert outcome.exit_code == 1
        assert "MemoryError" in box.err
        assert box.out == ""


def test_huge_output_goes_to_disk_and_is_read_as_head_and_tail(box: Box) -> None:
    size = 50 * MiB
    script = f"echo BEGIN; head -c {size} /dev/zero | tr '\\0' x; echo; echo END"
    outcome = box.run(script)
    assert outcome.exit_code == 0
    total = len("BEGIN\n") + size + len("\nEND\n")
    assert box.stdout_path.stat().st_size == total
    output = read_output(box.stdout_path)
    assert output.truncated
    assert output.size == total
    assert output.path == str(box.stdout_path)
    assert output.text.startswith("BEGIN\nxxx")
    assert output.text.endswith("xxx\nEND\n")
    assert len(output.text) < HEAD_BYTES + TAIL_BYTES + 200
    assert f"[... {total - HEAD_BYTES - TAIL_BYTES} bytes omitted ...]" in output.text
