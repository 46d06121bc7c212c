"""Shared pieces: the `assay` command, timing, and suite generation."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ASSAY = [sys.executable, "-m", "assay"]
BIN_ASSAY = Path(sys.executable).with_name("assay")


def assay_command() -> list[str]:
    """The installed `assay` script when present (as users run it), else `python -m assay`."""
    return [str(BIN_ASSAY)] if BIN_ASSAY.exists() else ASSAY


def timed(action: Callable[[], object], repeat: int = 5) -> float:
    """The median wall time of `action` over `repeat` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_assay(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run `assay ARGS` in `cwd`, failing loudly if the run itself failed."""
    proc = subprocess.run([*assay_command(), *args], cwd=cwd, capture_output=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout.decode() + proc.stderr.decode())
        raise SystemExit(f"assay exited with {proc.returncode}")
    return proc


def write_suite(path: Path, tests: list[str]) -> None:
    """Write a suite file whose `tests:` entries are the given YAML snippets."""
    path.write_text("tests:\n" + "".join(tests))


def report(label: str, value: float, unit: str = "s", target: str = "") -> None:
    """Print one figure."""
    shown = f"{value:.3f} {unit}" if unit == "s" else f"{value:.2f} {unit}"
    print(f"  {label:<48} {shown:>12}  {target}")
