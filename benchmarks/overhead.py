"""(a) 1000 tiny command tests with `-j 2`, against `subprocess.run` on 2 threads.

The baseline does the least a test runner must: start the same command,
capture its output, compare it. The target ratio is <= 1.2 (must stay < 1.5),
measured with `--no-record`. The same run recorded in the (SQLite) database
must cost under 10% more.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import report, run_assay, timed, write_suite

COUNT = 1000


BASELINE = f"""
import subprocess
from concurrent.futures import ThreadPoolExecutor

def one(i):
    proc = subprocess.run(["sh", "-c", f"echo test {{i}}"], capture_output=True, check=False)
    assert proc.stdout == f"test {{i}}\\n".encode()

with ThreadPoolExecutor(2) as pool:
    list(pool.map(one, range({COUNT})))
"""


def baseline() -> None:
    """The same 1000 commands through `subprocess.run` on 2 threads, as a Python program."""
    subprocess.run([sys.executable, "-c", BASELINE], check=True)


def main() -> None:
    """Print both wall times and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tests = [
            f'  - name: t{i}\n    run: echo test {i}\n    expect: {{stdout: "test {i}\\n"}}\n'
            for i in range(COUNT)
        ]
        write_suite(root / "tiny.assay.yaml", tests)
        args = ["run", "-j", "2", "-q", "tiny.assay.yaml"]
        plain = [*args, "--no-record"]
        run_assay(args, root)  # warm caches, and create the database
        ours, recorded, base = [], [], []
        for _ in range(5):  # interleaved, so all see the same machine
            ours.append(timed(lambda: run_assay(plain, root), 1))
            recorded.append(timed(lambda: run_assay(args, root), 1))
            base.append(timed(baseline, 1))
        ours_s, base_s = statistics.median(ours), statistics.median(base)
        recorded_s = statistics.median(recorded)
    report(f"assay run -j 2 --no-record, {COUNT} tiny tests", ours_s)
    report("python: subprocess.run on 2 threads (baseline)", base_s)
    report("ratio", ours_s / base_s, "x", "target <= 1.2, limit 1.5")
    report("assay run -j 2, recorded in SQLite", recorded_s)
    report("recording overhead", (recorded_s / ours_s - 1) * 100, "%", "target < 10 %")
