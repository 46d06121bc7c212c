"""(b) Wall time of `assay run` for one test (target < 150 ms), beside bare Python and pytest."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import assay_command, report, timed, write_suite


def main() -> None:
    """Print the one-test wall time and two reference points."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_suite(
            root / "one.assay.yaml",
            ['  - name: one\n    run: echo hi\n    expect: {stdout: "hi\\n"}\n'],
        )
        (root / "test_one.py").write_text(
            "import subprocess\n\ndef test_one():\n"
            "    assert subprocess.run(['echo', 'hi'], capture_output=True).stdout == b'hi\\n'\n"
        )
        cmd = [*assay_command(), "run", "-q", "one.assay.yaml"]
        subprocess.run(cmd, cwd=root, capture_output=True, check=True)
        ours = timed(lambda: subprocess.run(cmd, cwd=root, capture_output=True, check=True), 11)
        plain = [*cmd, "--no-record"]
        unrecorded = timed(
            lambda: subprocess.run(plain, cwd=root, capture_output=True, check=True), 11
        )
        python = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 11)
        pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"]
        pytest = timed(
            lambda: subprocess.run(pytest_cmd, cwd=root, capture_output=True, check=True), 5
        )
    report("assay run, one test (recorded)", ours, "s", "target < 0.150 s")
    report("assay run --no-record, one test", unrecorded, "s")
    report("python -c pass (floor)", python)
    report("pytest, one equivalent test", pytest)
    report("assay / pytest", ours / pytest, "x")
