#!/usr/bin/env python3
"""Start a run on an Assay server and follow it live, with nothing but the standard library.

    python3 examples/server/follow_run.py http://127.0.0.1:8000 tests --token "$ASSAY_TOKEN"

It POSTs the run, then reads the run's Server-Sent Events stream, printing
each test as it finishes, and exits 0 if the run passed, 1 if not. If the
connection drops it reconnects with `Last-Event-ID`, so nothing is missed
and nothing is printed twice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator


def request(url: str, token: str | None, body: dict[str, object] | None = None, **headers: str):
    """An open HTTP response (POST with a JSON body, else GET)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for name, value in headers.items():
        req.add_header(name.replace("_", "-"), value)
    return urllib.request.urlopen(req, timeout=60)


def events(url: str, token: str | None) -> Iterator[tuple[int, str, dict[str, object]]]:
    """The stream's events as (id, type, data); reconnects after a drop where it left off."""
    last = 0
    while True:
        try:
            with request(url, token, Last_Event_ID=str(last)) as stream:
                seq, kind = 0, ""
                for raw in stream:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("id: "):
                        seq = int(line[4:])
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        last = seq
                        yield seq, kind, json.loads(line[6:])
                        if kind == "run.finished":
                            return
            return  # the server ended the stream
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            print(f"connection lost ({error}); resuming after event {last}", file=sys.stderr)
            time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server", help="the server's URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("suite", help="a suite path the server may run (GET /api/v1/suites)")
    parser.add_argument("--token", default=os.environ.get("ASSAY_TOKEN"), help="a 'run' token")
    args = parser.parse_args()
    base = args.server.rstrip("/")
    try:
        with request(f"{base}/api/v1/runs", args.token, {"suite": args.suite}) as response:
            run = json.load(response)
    except urllib.error.HTTPError as error:
        print(f"cannot start the run: {json.load(error)['error']['message']}", file=sys.stderr)
        return 2
    print(f"run {run['id']} queued")
    for _, kind, data in events(base + run["events"], args.token):
        if kind == "run.started":
            print(f"run started: {len(data['tests'])} tests")
        elif kind == "test.finished":
            result = data["result"]
            print(f"{result['outcome'].upper():8}{result['test']['id']}")
        elif kind == "run.finished":
            counts = data["counts"]
            print("finished: " + ", ".join(f"{n} {o}" for o, n in counts.items() if n))
    with request(f"{base}/api/v1/runs/{run['id']}", args.token) as response:
        final = json.load(response)
    print(f"run {final['id']} {final['status']}")
    return 0 if final["status"] == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
