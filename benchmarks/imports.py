"""Importing JUnit XML: 100,000 cases against a bare `iterparse` pass, then 1,000,000 cases.

The file has 10% failures with multi-line tracebacks and 5% skipped cases.
Both sides run as fresh processes, so the ratio includes the same Python
start-up; peak memory is each process's maximum resident set.
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ASSAY, report

ITERPARSE = """
import sys
from xml.etree.ElementTree import iterparse
cases = 0
for event, elem in iterparse(sys.argv[1]):
    if elem.tag == "testcase":
        cases += 1
        elem.clear()
print(cases)
"""

TRACEBACK = "".join(
    f'  File "/src/app/module_{i}.py", line {10 * i}, in function_{i}\n    call_{i}(x)\n'
    for i in range(8)
)


def write_junit(path: Path, cases: int, seed: int = 1) -> None:
    """A pytest-style JUnit file with `cases` test cases."""
    rng = random.Random(seed)
    with path.open("w") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n')
        out.write(f'<testsuite name="pytest" tests="{cases}" timestamp="2026-11-01T10:00:00">\n')
        for i in range(cases):
            name = f'classname="tests.test_mod{i // 100}" name="test_case_{i}"'
            time_ = f'time="{rng.random() / 10:.4f}"'
            roll = rng.random()
            if roll < 0.10:
                out.write(
                    f'<testcase {name} {time_}><failure message="AssertionError: {i} != {i + 1}">'
                    f"Traceback (most recent call last):\n{TRACEBACK}AssertionError: {i} != {i + 1}"
                    "</failure></testcase>\n"
                )
            elif roll < 0.15:
                out.write(f'<testcase {name} {time_}><skipped message="not today"/></testcase>\n')
            else:
                out.write(f"<testcase {name} {time_}/>\n")
        out.write("</testsuite>\n</testsuites>\n")


def _measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest so far; report it only when this child raised it.
    return wall, max(peak, before) / 1024


def main() -> None:
    """Print import times, the ratio to iterparse, and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = root / "junit-100k.xml"
        write_junit(small, 100_000)
        parse = [sys.executable, "-c", ITERPARSE, str(small)]
        imp = [*ASSAY, "import", "junit", str(small), "--db", f"sqlite:///{root}/a.db"]
        subprocess.run(parse, check=True, capture_output=True)  # warm the page cache
        base_s, _ = _measure(parse, root)
        ours_s, ours_mb = _measure(imp, root)
        report("iterparse pass, 100,000 cases (baseline)", base_s)
        report("assay import junit, 100,000 cases", ours_s)
        report("ratio", ours_s / base_s, "x", "target <= 2")
        report("peak RSS, assay import (100,000 cases)", ours_mb, "MB", "target < 100 MB")
        small.unlink()
        big = root / "junit-1m.xml"
        write_junit(big, 1_000_000)
        size_mb = big.stat().st_size / 1e6
        imp = [*ASSAY, "import", "junit", str(big), "--db", f"sqlite:///{root}/b.db"]
        big_s, big_mb = _measure(imp, root)
        report(f"assay import junit, 1,000,000 cases ({size_mb:.0f} MB)", big_s)
        report("peak RSS, assay import (1,000,000 cases)", big_mb, "MB")
