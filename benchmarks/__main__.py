"""Run every benchmark and print figures and ratios: `python -m benchmarks [NAME...]`.

Nothing here asserts: the figures are for people (and the closing notes of
issues). Each benchmark measures its baseline in the same run, on the same
machine, so the ratios stay meaningful on a noisy shared host.
"""

from __future__ import annotations

import sys

from benchmarks import (
    api,
    imports,
    ingest,
    memory,
    overhead,
    queries,
    sandboxes,
    sleepers,
    startup,
    streams,
)

BENCHMARKS = {
    "overhead": overhead.main,
    "startup": startup.main,
    "sleepers": sleepers.main,
    "memory": memory.main,
    "imports": imports.main,
    "queries": queries.main,
    "ingest": ingest.main,
    "api": api.main,
    "streams": streams.main,
    "sandboxes": sandboxes.main,
}


def main(names: list[str]) -> int:
    """Run the named benchmarks (all by default)."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 4
    for name in names or list(BENCHMARKS):
        print(f"== {name}")
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
