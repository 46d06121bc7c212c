"""The cost of each sandbox per test: `true` in `bwrap` and `container` against `process`.

One test at a time through the `Sandboxes` router, as the engine starts
them, with the output going to files. The rounds interleave the three
sandboxes, so all see the same machine; the figure is the median time per
test of each, and the overhead is what a sandbox adds to `process`. The
container sandbox uses the engine and image the tests use (`DOCKER_HOST`,
or Podman's socket; `scripts/podman-service` sets both up).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from assay.model import Isolation
from assay.sandbox import Cancellation, ProcessRequest, Sandboxes
from benchmarks.common import report

ROUNDS = 5
PER_ROUND = {"process": 100, "bwrap": 100, "container": 10}
IMAGE = "localhost/assay-busybox:latest"
ISOLATIONS = {
    "process": Isolation(),
    "bwrap": Isolation(kind="bwrap"),
    "container": Isolation(kind="container", image=IMAGE),
}


def per_test(sandboxes: Sandboxes, root: Path, kind: str, count: int) -> float | str:
    """Seconds per `true` in the `kind` sandbox, or why it cannot run here."""
    workdir = root / "work"
    flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    stdout, stderr = os.open(root / "out", flags), os.open(root / "err", flags)
    request = ProcessRequest(
        argv=("true",),
        cwd=workdir,
        env={"PATH": os.defpath} if kind != "container" else {},
        stdout=stdout,
        stderr=stderr,
        timeout=60,
        isolation=ISOLATIONS[kind],
        workdir=workdir,
    )
    cancel = Cancellation()
    try:
        start = time.perf_counter()
        for _ in range(count):
            outcome = sandboxes.execute(request, cancel)
            if outcome.error or outcome.exit_code != 0:
                return outcome.error or f"exit code {outcome.exit_code}"
        return (time.perf_counter() - start) / count
    finally:
        cancel.close()
        os.close(stdout)
        os.close(stderr)


def main() -> None:
    """Print each sandbox's time per test, its overhead and its ratio to `process`."""
    samples: dict[str, list[float]] = {kind: [] for kind in ISOLATIONS}
    unavailable: dict[str, str] = {}
    sandboxes = Sandboxes()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "work").mkdir()
        try:
            for kind in ISOLATIONS:  # warm up: set up each sandbox once, outside the figures
                first = per_test(sandboxes, root, kind, 1)
                if isinstance(first, str):
                    unavailable[kind] = first
            for _ in range(ROUNDS):
                for kind, count in PER_ROUND.items():
                    if kind not in unavailable:
                        value = per_test(sandboxes, root, kind, count)
                        assert isinstance(value, float), value
                        samples[kind].append(value)
        finally:
            sandboxes.close()
    baseline = statistics.median(samples["process"])
    report("process: `true`, per test", baseline * 1000, "ms")
    for kind in ("bwrap", "container"):
        if kind in unavailable:
            print(f"  {kind}: not measured: {unavailable[kind]}")
            continue
        ours = statistics.median(samples[kind])
        target = "expected about +15 ms" if kind == "bwrap" else "expected about +0.4 s"
        report(f"{kind}: `true`, per test", ours * 1000, "ms")
        report(f"{kind}: overhead over process", (ours - baseline) * 1000, "ms", target)
        report(f"{kind}: ratio to process", ours / baseline, "x")
