"""Shared pieces: the `assay` command and server, timing, percentiles, and suite generation."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(root: Path, url: str, project: str, timeout: float = 60) -> Iterator[str]:
    """`assay serve` in its own process (as users run it) over `url`; yields its base URL.

    The load runs in this process, so the client and the server do not share
    one interpreter's lock.
    """
    import httpx

    port = free_port()
    env = {**os.environ, "ASSAY_PROJECT": project}
    command = [*assay_command(), "serve", "--port", str(port), "--db", url]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    sys.stderr.write(log.read().decode(errors="replace"))
                    raise SystemExit("assay serve did not start")
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield base
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def percentile(samples: list[float], q: float) -> float:
    """The `q`-th percentile (0-100) of `samples`, by the nearest-rank method."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
