"""(c) 200 tests that each sleep 0.5 s, with `-j 100` (target < 2 s; the floor is 1 s)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import report, run_assay, timed, write_suite

COUNT = 200


def main() -> None:
    """Print the wall time and its ratio to the ideal (two waves of 0.5 s)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_suite(
            root / "sleep.assay.yaml",
            [f"  - name: s{i}\n    run: [sleep, '0.5']\n" for i in range(COUNT)],
        )
        ours = timed(lambda: run_assay(["run", "-j", "100", "-q", "sleep.assay.yaml"], root), 3)
    report(f"{COUNT} x sleep 0.5 with -j 100", ours, "s", "target < 2 s")
    report("ratio to the ideal 1.0 s", ours / 1.0, "x")
