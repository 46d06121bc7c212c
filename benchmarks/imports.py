"""Importing JUnit XML: 100,000 cases against a bare `iterparse` pass, then 1,000,000 cases.

The file has 10% failures with multi-line tracebacks and 5% skipped cases.
Both sides run as fresh processes, so the ratio includes the same Python
start-up; peak memory is each process's maximum resident set. Imports go
into a database whose schema exists, as every import but a project's first
does; creating the schema (Alembic, about 0.4 s) is timed on its own.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
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
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        # The child's own rusage: RUSAGE_CHILDREN would give the largest of all children so far.
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            sys.stderr.write(errors.read().decode(errors="replace"))
            raise SystemExit(f"{command[0]} exited with {child.returncode}")
    return wall, usage.ru_maxrss / 1024


def _imports(source: Path, empty: Path, runs: int) -> tuple[float, float]:
    """Median wall seconds and largest peak RSS of importing `source` into copies of `empty`."""
    database = empty.with_name("import.db")
    samples = []
    for _ in range(runs):
        for leftover in database.parent.glob(f"{database.name}*"):
            leftover.unlink()
        shutil.copyfile(empty, database)
        command = [*ASSAY, "import", "junit", str(source), "--db", f"sqlite:///{database}"]
        samples.append(_measure(command, database.parent))
    return statistics.median(s for s, _ in samples), max(mb for _, mb in samples)


def main() -> None:
    """Print import times, the ratio to iterparse, and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = root / "junit-100k.xml"
        write_junit(small, 100_000)
        empty = root / "empty.db"
        upgrade = [*ASSAY, "db", "upgrade", "--db", f"sqlite:///{empty}"]
        schema_s, _ = _measure(upgrade, root)
        parse = [sys.executable, "-c", ITERPARSE, str(small)]
        subprocess.run(parse, check=True, capture_output=True)  # warm the page cache
        base_s = statistics.median(_measure(parse, root)[0] for _ in range(3))
        ours_s, ours_mb = _imports(small, empty, runs=3)
        first = [*ASSAY, "import", "junit", str(small), "--db", f"sqlite:///{root}/new.db"]
        first_s, first_mb = _measure(first, root)
        report("iterparse pass, 100,000 cases (baseline)", base_s)
        report("assay import junit, 100,000 cases", ours_s)
        report("ratio", ours_s / base_s, "x", "target <= 2")
        report("peak RSS, assay import (100,000 cases)", ours_mb, "MB", "target < 100 MB")
        report("creating the schema (assay db upgrade)", schema_s)
        report("first import, into a new database", first_s)
        report("peak RSS, first import", first_mb, "MB")
        small.unlink()
        big = root / "junit-1m.xml"
        write_junit(big, 1_000_000)
        size_mb = big.stat().st_size / 1e6
        big_s, big_mb = _imports(big, empty, runs=1)
        report(f"assay import junit, 1,000,000 cases ({size_mb:.0f} MB)", big_s)
        report("peak RSS, assay import (1,000,000 cases)", big_mb, "MB")
