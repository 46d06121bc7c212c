"""Remote runs: 100,000 tiny tests sent with `--report-to`, against the run recorded locally.

The baseline is the run as most users make it: `assay run -j 2`, recorded
in the project's SQLite database. The remote run sends every event to an
`assay serve` on this machine (SQLite too) instead of recording locally
(`--no-record`), and ends only once the server has stored the last batch,
so its wall time includes all of the server's work. The server shares the
machine's cores with the tests, as a local recording does. Target: < 2x.

`ASSAY_BENCH_INGEST_TESTS` sets the number of tests (for a quick look).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import assay_command, report, run_assay, timed, write_suite

COUNT = int(os.environ.get("ASSAY_BENCH_INGEST_TESTS", "100000"))


def _serve(root: Path, port: int) -> subprocess.Popen[bytes]:
    """`assay serve` on `port` over `root/.assay/assay.db`, answering once it is ready."""
    server = subprocess.Popen(
        [*assay_command(), "serve", "--port", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit("assay serve did not start") from None
            time.sleep(0.1)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stored(database: Path) -> tuple[int, int, str]:
    """Results, batches and status of the last run in a server's database."""
    with sqlite3.connect(database) as db:
        run_id, status = db.execute("SELECT id, status FROM runs ORDER BY id DESC").fetchone()
        results = db.execute("SELECT COUNT(*) FROM results WHERE run_id = ?", (run_id,))
        batches = db.execute("SELECT COUNT(*) FROM ingest_batches WHERE run_id = ?", (run_id,))
        return results.fetchone()[0], batches.fetchone()[0], status


def main() -> None:
    """Print both wall times, their ratio, and what the server stored."""
    with tempfile.TemporaryDirectory() as tmp:
        client, server_root = Path(tmp) / "client", Path(tmp) / "server"
        client.mkdir()
        server_root.mkdir()
        (server_root / "assay.toml").write_text("")
        write_suite(
            client / "tiny.assay.yaml",
            [f'  - name: t{i}\n    run: [echo, "{i}"]\n' for i in range(COUNT)],
        )
        write_suite(client / "warm.assay.yaml", ['  - name: warm\n    run: [echo, "hi"]\n'])
        created = run_assay(
            ["token", "create", "--name", "bench", "--scope", "run", "--json"], server_root
        )
        token = json.loads(created.stdout)["token"]
        port = _free_port()
        server = _serve(server_root, port)
        try:
            remote = ["--no-record", "--report-to", f"http://127.0.0.1:{port}", "--token", token]
            run_assay(["run", "-q", "warm.assay.yaml"], client)  # creates the local database
            run_assay(["run", "-q", "warm.assay.yaml", *remote], client)
            args = ["run", "-j", "2", "-q", "tiny.assay.yaml"]
            local_s = timed(lambda: run_assay(args, client), 1)
            remote_s = timed(lambda: run_assay([*args, *remote], client), 1)
            results, batches, status = _stored(server_root / ".assay" / "assay.db")
        finally:
            server.terminate()
            server.wait(30)
    report(f"assay run -j 2, {COUNT} tiny tests, recorded locally", local_s)
    report("the same, --report-to a local server (--no-record)", remote_s)
    report("ratio", remote_s / local_s, "x", "target < 2")
    print(f"  the server stored {results} results in {batches} batches; the run {status}")
    if results != COUNT:
        raise SystemExit(f"the server stored {results} of {COUNT} results")
