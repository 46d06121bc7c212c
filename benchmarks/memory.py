"""(d) Peak memory of Assay while a test prints 1 GiB (target < 100 MB).

The baseline is the peak memory of the same `assay run` for a test that
prints one line, so the ratio shows what the gigabyte costs.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import assay_command, report, write_suite

BIG = "head -c 1073741824 /dev/zero | tr '\\\\0' 'x'"


def peak_kib(args: list[str], cwd: Path) -> int:
    """The peak RSS (KiB) of one `assay` process, read from wait4's rusage."""
    proc = subprocess.Popen([*assay_command(), *args], cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss


def main() -> None:
    """Print the peak RSS with and without 1 GiB of output."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        big_test = f'  - name: one gibibyte\n    run: "{BIG}"\n'
        big_test += "    expect: {stdout: {contains: xxxx}}\n"
        write_suite(root / "big.assay.yaml", [big_test])
        write_suite(root / "small.assay.yaml", ["  - name: small\n    run: echo hi\n"])
        # Create the database first: its one-time migration loads Alembic and SQLAlchemy,
        # which is not what this measures.
        peak_kib(["run", "-q", "small.assay.yaml"], root)
        big = peak_kib(["run", "-q", "--test-timeout", "5m", "big.assay.yaml"], root)
        small = peak_kib(["run", "-q", "small.assay.yaml"], root)
    report("peak RSS, test printing 1 GiB", big / 1024, "MB", "target < 100 MB")
    report("peak RSS, test printing one line", small / 1024, "MB")
    report("ratio", big / small, "x")
