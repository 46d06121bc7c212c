"""200 subscribers following a running run's live events: how late does each event arrive?

`assay serve` runs in its own process. A run of one suite is started through
the API: a first test that waits `GATE` s, then `TESTS` short tests that need
it, `JOBS` at a time, so that every subscriber is following before results
come. This process opens `SUBSCRIBERS` streams on `/api/v1/runs/{id}/events`
(HTTP/1.0 over asyncio streams: as in `api`, a lean client, so that the
measure is the server's) and stamps each chunk with the time it arrived. The
streams end by themselves when the run finishes; a deadline bounds it all.

An event's lag is its arrival minus the moment its test ended (for
`test.finished`, the last attempt's start plus its duration, as the engine
recorded them, on this machine's clock): the engine's checks and handlers,
the server's fan-out and the socket. The spread of an event (its latest
arrival minus its earliest) is the fan-out alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks.common import percentile, report, serving, write_suite

SUBSCRIBERS = 200
TESTS = int(os.environ.get("BENCH_STREAM_TESTS", "400"))
JOBS = 8
SLEEP = 0.05
GATE = 3.0
DEADLINE = 300.0
TARGET = 1.0


@dataclass
class Subscriber:
    """What one stream saw: when it was following, and when each event arrived."""

    following_at: float = 0.0
    frames: int = 0
    finished: bool = False
    arrivals: dict[int, float] = field(default_factory=dict)
    """Sequence number -> arrival (epoch s), for events that carry when they happened."""
    happened: dict[int, float] = field(default_factory=dict)
    """Sequence number -> when the event happened (epoch s)."""


def _suite(path: Path) -> None:
    tests = [f"  - name: gate\n    run: [sleep, '{GATE}']\n"]
    tests += [
        f"  - name: t{i:04d}\n    run: [sleep, '{SLEEP}']\n    needs: [gate]\n"
        for i in range(TESTS)
    ]
    write_suite(path, tests)


async def _subscribe(port: int, run_id: int, seen: Subscriber) -> None:
    """Follow the run's events until the stream ends, stamping each chunk as it arrives."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/v1/runs/{run_id}/events HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
    buffer = b""
    try:
        while chunk := await reader.read(1 << 16):
            now = time.time()
            if not seen.following_at:
                seen.following_at = now
                head, _, chunk = chunk.partition(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"subscribing failed: {head[:200]!r}")
            buffer += chunk
            *frames, buffer = buffer.split(b"\n\n")
            for frame in frames:
                _read(frame, now, seen)
    finally:
        writer.close()


def _read(frame: bytes, now: float, seen: Subscriber) -> None:
    if frame.startswith(b":"):  # a heartbeat
        return
    seen.frames += 1
    fields = dict(line.split(b": ", 1) for line in frame.split(b"\n"))
    kind = fields[b"event"]
    if kind == b"run.finished":
        seen.finished = True
    elif kind == b"test.finished":
        last = json.loads(fields[b"data"])["result"]["attempts"][-1]
        ended = datetime.fromisoformat(last["started_at"]).timestamp() + last["duration"]
        seq = int(fields[b"id"])
        seen.arrivals[seq] = now
        seen.happened[seq] = ended


async def _follow(port: int, run_id: int) -> list[Subscriber]:
    everyone = [Subscriber() for _ in range(SUBSCRIBERS)]
    await asyncio.wait_for(
        asyncio.gather(*(_subscribe(port, run_id, seen) for seen in everyone)), DEADLINE
    )
    return everyone


def main() -> None:
    """Start the run, follow it from every subscriber, and print the lags."""
    import httpx

    from assay.store import Store
    from assay.store.tokens import create_token

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _suite(root / "stream.assay.yaml")
        url = f"sqlite:///{root}/history.db"
        store = Store(url, root / "artifacts", "bench")
        _, secret = create_token(store, "bench", ["run"])
        store.close()
        with serving(root, url, "bench") as base:
            port = int(base.rsplit(":", 1)[1])
            with httpx.Client(base_url=base, timeout=30) as client:
                started = client.post(
                    "/api/v1/runs",
                    json={"suite": "stream.assay.yaml", "jobs": JOBS},
                    headers={"Authorization": f"Bearer {secret}"},
                )
                started.raise_for_status()
                run_id = started.json()["id"]
                subscribed = time.time()
                everyone = asyncio.run(_follow(port, run_id))
                ran = time.time() - subscribed
                run = client.get(f"/api/v1/runs/{run_id}").json()
    _report(everyone, run, ran)


def _report(everyone: list[Subscriber], run: dict[str, object], ran: float) -> None:
    lags = []
    replayed = 0
    for seen in everyone:
        for seq, arrived in seen.arrivals.items():
            happened = seen.happened[seq]
            if happened < seen.following_at:
                replayed += 1  # it was history when this stream opened: no live lag
            else:
                lags.append(arrived - happened)
    firsts: dict[int, float] = {}
    lasts: dict[int, float] = {}
    for seen in everyone:
        for seq, arrived in seen.arrivals.items():
            firsts[seq] = min(firsts.get(seq, arrived), arrived)
            lasts[seq] = max(lasts.get(seq, arrived), arrived)
    spreads = [lasts[seq] - firsts[seq] for seq in firsts]
    frames = {seen.frames for seen in everyone}
    complete = sum(seen.finished for seen in everyone)
    print(
        f"  run {run['id']}: {run['status']}, {run['total']} tests, "
        f"followed for {ran:.1f} s by {SUBSCRIBERS} subscribers"
    )
    print(
        f"  {complete} streams reached run.finished; events per stream: "
        f"{', '.join(map(str, sorted(frames)))}; {replayed} arrivals were history, not timed"
    )
    print(f"  lag of test.finished, {len(lags):,} arrivals (from the test's end):")
    for q in (50, 95, 99):
        note = "target < 1 s" if q == 95 else ""
        report(f"  p{q}", percentile(lags, q), "s", note)
    report("  max", max(lags))
    report("  ratio p95 / 1 s", percentile(lags, 95) / TARGET, "x", "target < 1")
    report("  fan-out spread p95 (latest - earliest arrival)", percentile(spreads, 95))
