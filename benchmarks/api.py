"""The REST API under 100 concurrent clients, over 1,000,000 results in SQLite.

The database is the one the `queries` benchmark builds (1,000 runs of 1,000
tests). `assay serve` runs in its own process; this process is the load: 100
clients, each on its own keep-alive connection, for a fixed time, after
which they stop. Listing requests take turns: the first page of runs, a later
page of runs (by cursor), a run's first page of results, and a later page.

Two loads are measured: back to back (no pause between a client's requests,
so latency is mostly queueing: 100 / throughput), and 100 users who pause a
random 0 to 1 s between requests. `/healthz` back to back is the baseline:
the HTTP stack alone, on the same machine in the same run.

The clients speak HTTP/1.1 over asyncio streams rather than through httpx:
an httpx request costs this process more CPU than `/healthz` costs the
server, so 100 httpx clients on a small machine measure themselves. The
clients' CPU use is printed with each load, to show they are not the limit.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import percentile, report, serving
from benchmarks.queries import RUNS, TESTS, populate

CLIENTS = 100
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = 2.0
TARGET = 0.050

Paths = Callable[[random.Random], tuple[str, str]]
"""Picks a client's next request: its kind (for the report) and its path."""


@dataclass(frozen=True, slots=True)
class Load:
    """What one load measured: every latency, by kind too, the rate, and the clients' CPU."""

    latencies: list[float]
    by_kind: dict[str, list[float]]
    rate: float
    client_cpu: float
    """CPU seconds the clients (this process) used per second of the load."""


async def _client(
    port: int, paths: Paths, think: float, seed: int, window: tuple[float, float]
) -> list[tuple[str, float]]:
    """One client on its own connection, sending requests until the window (monotonic) ends.

    Only requests sent inside the window are timed: before it, the other
    clients are still connecting. A client pauses a random 0 to `think` s
    between requests.
    """
    rng = random.Random(seed)
    timings: list[tuple[str, float]] = []
    recording_from, until = window
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (now := time.monotonic()) < until:
            kind, path = paths(rng)
            start = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            status, body = await _response(reader)
            elapsed = time.perf_counter() - start
            if status != 200:
                raise SystemExit(f"GET {path}: {status} {body[:200]!r}")
            if now >= recording_from:
                timings.append((kind, elapsed))
            if think:
                await asyncio.sleep(rng.uniform(0, think))
    finally:
        writer.close()
    return timings


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one HTTP/1.1 response that has a `Content-Length`."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return int(lines[0].split()[1]), await reader.readexactly(length)


def load(base: str, paths: Paths, think: float = 0.0) -> Load:
    """Run `CLIENTS` clients for `SECONDS`, after a warm-up."""
    port = int(base.rsplit(":", 1)[1])

    async def everyone() -> list[list[tuple[str, float]]]:
        start = time.monotonic() + WARMUP
        window = (start, start + SECONDS)
        return await asyncio.gather(
            *(_client(port, paths, think, seed, window) for seed in range(CLIENTS))
        )

    cpu, started = _cpu(), time.monotonic()
    timings = [t for client in asyncio.run(everyone()) for t in client]
    cpu = (_cpu() - cpu) / (time.monotonic() - started)
    by_kind: dict[str, list[float]] = {}
    for kind, elapsed in timings:
        by_kind.setdefault(kind, []).append(elapsed)
    return Load([e for _, e in timings], by_kind, len(timings) / SECONDS, cpu)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _show(label: str, measured: Load, target: bool = True) -> None:
    latencies = measured.latencies
    print(
        f"  {label}: {len(latencies):,} requests, {measured.rate:,.0f} req/s "
        f"(clients' CPU: {measured.client_cpu:.0%} of a core)"
    )
    for q in (50, 95, 99):
        note = "target < 50 ms" if target and q == 95 else ""
        report(f"  p{q}", percentile(latencies, q) * 1000, "ms", note)
    if target:
        report("  ratio p95 / 50 ms", percentile(latencies, 95) / TARGET, "x", "target < 1")
        for kind, samples in sorted(measured.by_kind.items()):
            report(f"  p95 {kind}", percentile(samples, 95) * 1000, "ms")


def _healthz(rng: random.Random) -> tuple[str, str]:
    return "healthz", "/healthz"


def _listings(base: str) -> Paths:
    """The four listings, with real cursors taken from the server."""
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        runs = client.get("/api/v1/runs", params={"limit": 500}).json()["items"]
        run_ids = [r["id"] for r in runs]
        pages = [client.get("/api/v1/runs", params={"limit": n}).json() for n in (5, 200, 450)]
        later_runs = [page["next"] for page in pages if page["next"] is not None]
        later_results = {}
        for run_id in run_ids[:20]:
            page = client.get(f"/api/v1/runs/{run_id}/results", params={"limit": 500}).json()
            later_results[run_id] = page["next"]

    def paths(rng: random.Random) -> tuple[str, str]:
        kind = rng.randrange(4)
        if kind == 0:
            return "runs, first page", "/api/v1/runs"
        if kind == 1:
            return "runs, by cursor", f"/api/v1/runs?cursor={rng.choice(later_runs)}"
        if kind == 2:
            return "results, first page", f"/api/v1/runs/{rng.choice(run_ids)}/results"
        run_id = rng.choice(list(later_results))
        cursor = later_results[run_id]
        return "results, by cursor", f"/api/v1/runs/{run_id}/results?cursor={cursor}"

    return paths


def main() -> None:
    """Build the database, serve it, and measure the baseline and both loads."""
    from assay.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root}/history.db"
        store = Store(url, root / "artifacts", "bench")
        start = time.perf_counter()
        populate(store)
        store.close()
        report(f"building {RUNS * TESTS:,} results", time.perf_counter() - start)
        with serving(root, url, "bench") as base:
            listings = _listings(base)
            print(f"  {CLIENTS} clients, {SECONDS:.0f} s each load (after {WARMUP:.0f} s warm-up)")
            _show("baseline: GET /healthz, back to back", load(base, _healthz), target=False)
            _show("listings, back to back", load(base, listings))
            _show("listings, 100 users pausing 0-1 s", load(base, listings, think=1.0))
