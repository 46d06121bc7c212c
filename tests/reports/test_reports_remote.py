"""`assay run --report-to`: a real run reported to a real server, which may be down or refuse.

Each test runs the `assay` command as a child process against a live server
(`fixtures.server`), then reads what the server stored straight from its
database. Servers that go away and come back are stopped and started on a
fixed port while the run waits at a gate: a test that spins until a file
appears, which the test creates once the server is in the state it wants.
"""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import assay
from assay.api import RecordingWarning
from assay.config import Settings
from assay.store import Store
from assay.store.tokens import create_token
from fixtures.databases import PROJECT, database, opened_store, rows, scalar
from fixtures.projects import CLI_TIMEOUT, CliResult, Project, clean_environ
from fixtures.server import LiveServer, free_port, live_server

TINY = 200

SUITE = """\
tests:
  - name: fails
    run: echo nope
    expect: {stdout: "yes\\n"}
  - name: flaky
    run: sh -c 'test -e "$0" || { touch "$0"; exit 1; }' FLAG
    retries: 1
  - name: talks a lot
    run: seq 1 20000
    expect: {stdout: {contains: "19999"}}
  - name: after a failure
    needs: [fails]
    run: echo never
"""

GATED = """\
tests:
  - name: before the gate
    run: echo first
  - name: at the gate
    run: sh -c 'touch "$0"; while [ ! -e "$1" ]; do sleep 0.02; done' WAITING GATE
"""


def tiny(count: int) -> str:
    """`count` tests that pass at once."""
    return "".join(f"  - name: tiny {i}\n    run: echo {i}\n" for i in range(count))


def server_run(live: LiveServer) -> int:
    """The id of the one run the server has."""
    (run_id,) = [r[0] for r in rows(live.store, "SELECT id FROM runs")]
    return int(run_id)


def results(store: Store, run_id: int) -> list[tuple[Any, ...]]:
    """A run's results and attempts, as stored: everything but times and durations."""
    found = rows(
        store,
        "SELECT t.key, r.position, r.outcome, r.flaky, r.attempts, r.reason, r.message, "
        "a.number, a.outcome, a.exit_code, a.signal, a.failures, a.notes, a.stdout_tail, "
        "a.stdout_size, a.stdout_artifact, a.stderr_tail, a.stderr_size "
        "FROM results r JOIN tests t ON t.id = r.test_id "
        "LEFT JOIN attempts a ON a.run_id = r.run_id AND a.position = r.position "
        "WHERE r.run_id = :run ORDER BY r.position, a.number",
        run=run_id,
    )
    return [tuple(bool(v) if i == 3 else v for i, v in enumerate(row)) for row in found]


def run_row(store: Store, run_id: int) -> tuple[Any, ...]:
    """What a run's row says of how it went."""
    (found,) = rows(
        store,
        "SELECT status, total, passed, failed, skipped, flaky, started_at, duration, options "
        "FROM runs WHERE id = :run",
        run=run_id,
    )
    return tuple(found)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """The project whose run is reported (apart from the server's own project directory)."""
    return Project(tmp_path / "client")


@pytest.fixture
def local(project: Project) -> Iterator[Store]:
    """The project's own database, where `assay run` records as usual."""
    root = project.root
    with opened_store(f"sqlite:///{root}/.assay/assay.db", root / ".assay", root.name) as store:
        yield store


def test_a_reported_run_is_stored_on_the_server_as_it_is_locally(
    server: LiveServer, project: Project, local: Store
) -> None:
    project.write(
        "remote.assay.yaml", SUITE.replace("FLAG", str(project.root / "flag")) + tiny(TINY)
    )
    done = project.assay("run", "-q", "--report-to", server.url, "--token", server.token("run"))
    assert done.code == 1, done
    assert done.stderr == ""

    run_id = server_run(server)
    (local_id,) = [r[0] for r in rows(local, "SELECT id FROM runs")]
    assert results(server.store, run_id) == results(local, local_id)
    assert run_row(server.store, run_id)[:-1] == run_row(local, local_id)[:-1]
    assert run_row(server.store, run_id)[0] == "failed"
    assert scalar(server.store, "SELECT trigger FROM runs") == "remote"
    # The long log was kept whole on the server too, under the same digest.
    ((digest,),) = rows(
        server.store, "SELECT stdout_artifact FROM attempts WHERE stdout_size > 100000"
    )
    assert (Path(server.store.artifacts.path(digest))).read_text().startswith("1\n2\n3\n")
    # Batches, not a request per test: a run this short fits in a few.
    batches = scalar(
        server.store, "SELECT COUNT(*) FROM ingest_batches WHERE run_id = :r AND seq > 0", r=run_id
    )
    assert batches <= TINY // 20


def test_the_server_and_token_can_come_from_the_environment(
    sqlite_server: LiveServer, project: Project
) -> None:
    project.write("remote.assay.yaml", "tests:\n" + tiny(3))
    env = {"ASSAY_REPORT_TO": sqlite_server.url, "ASSAY_TOKEN": sqlite_server.token("run")}
    done = project.assay("run", "--no-record", env=env)
    assert (done.code, done.stderr) == (0, "")
    assert run_row(sqlite_server.store, server_run(sqlite_server))[:3] == ("passed", 3, 3)


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("assay_wrong", 401, "the token is not valid"),
        (None, 401, "a valid token is needed"),
        ("read", 403, "this needs a token with the 'run' scope"),
    ],
    ids=["wrong-token", "no-token", "read-only-token"],
)
def test_a_refused_token_is_a_warning_and_the_run_goes_on(
    sqlite_server: LiveServer,
    project: Project,
    local: Store,
    token: str | None,
    status: int,
    message: str,
) -> None:
    project.write("remote.assay.yaml", SUITE.replace("FLAG", str(project.root / "flag")))
    secret = sqlite_server.token("read") if token == "read" else token
    done = project.assay(
        "run", "--report-to", sqlite_server.url, *(["--token", secret] if secret else [])
    )
    assert done.code == 1, done
    assert done.stderr == (
        f"assay: warning: the run was not reported to {sqlite_server.url}: "
        f"the server answered {status}: {message}\n"
    )
    assert "2 passed, 1 failed, 1 skipped" in done.stdout
    assert scalar(sqlite_server.store, "SELECT COUNT(*) FROM runs") == 0
    assert scalar(local, "SELECT status FROM runs") == "failed"  # recorded here all the same


def test_a_server_that_never_answers_is_a_warning_after_the_patience(
    project: Project, local: Store
) -> None:
    project.write("remote.assay.yaml", SUITE.replace("FLAG", str(project.root / "flag")))
    nobody = f"http://127.0.0.1:{free_port()}"
    done = project.assay("run", "--report-to", nobody, "--report-patience", "1s")
    assert done.code == 1, done
    assert done.stderr == (
        f"assay: warning: the run was not reported to {nobody}: no answer for 1.00s: "
        "cannot reach the server: [Errno 111] Connection refused\n"
    )
    assert scalar(local, "SELECT status FROM runs") == "failed"


def test_a_refused_batch_is_dropped_and_the_rest_still_sent(
    tmp_path: Path, project: Project
) -> None:
    # The pause outlasts a batch's wait to fill, so the results before it go in batches
    # of their own, and the one refused holds only the pause and the test too large.
    project.write(
        "remote.assay.yaml",
        "tests:\n"
        + tiny(3)
        + "  - name: pause\n    needs: [tiny 2]\n    run: sleep 1.5\n"
        + "  - name: too much\n    needs: [pause]\n    run: head -c 300000 /dev/urandom\n",
    )
    with (
        database("sqlite", tmp_path) as url,
        live_server(tmp_path / "server", url, max_batch=64 * 1024) as live,
    ):
        done = project.assay("run", "--report-to", live.url, "--token", live.token("run"))
        run_id = server_run(live)
        stored = [r[0] for r in results(live.store, run_id)]
        status = run_row(live.store, run_id)[:3]
    assert done.code == 0, done
    assert done.stderr.startswith(
        f"assay: warning: the run was only partly reported to {live.url}: "
        "the server refused 1 batch (2 results): the server answered 413: "
    )
    assert stored == [f"remote.assay.yaml::tiny {i}" for i in range(3)]
    # The end of the run came in a batch of its own, so the run is finished there.
    assert status == ("passed", 3, 3)


def test_an_invalid_server_url_is_a_usage_error(project: Project) -> None:
    project.write("remote.assay.yaml", "tests:\n" + tiny(1))
    done = project.assay("run", "--report-to", "localhost:8000")
    assert done.code == 4
    assert "argument --report-to: expected an http:// or https:// URL" in done.stderr


# -- A server that is down for part of the run.


@contextlib.contextmanager
def started(project: Project, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`assay ARGS` running as a child process; killed if the test ends first."""
    child = subprocess.Popen(
        [sys.executable, "-m", "assay", *args],
        cwd=project.root,
        env=clean_environ({"TMPDIR": str(project.runs)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def finish(child: subprocess.Popen[str], args: tuple[str, ...]) -> CliResult:
    """Wait for the child to end; what it printed."""
    out, err = child.communicate(timeout=CLI_TIMEOUT)
    return CliResult(args, child.returncode, out, err)


def wait_for(condition: Any, what: str) -> None:
    """Poll `condition` until it holds (a safety net, not a timed check)."""
    deadline = time.monotonic() + CLI_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


@pytest.fixture
def gated(project: Project) -> Project:
    """A project whose run stops at a gate until `gate` exists, after `waiting` appears."""
    text = GATED.replace("WAITING", str(project.root / "waiting"))
    text = text.replace("GATE", str(project.root / "gate"))
    project.write("remote.assay.yaml", text + tiny(20))
    return project


def run_token(url: str, directory: Path) -> str:
    """A token with the `run` scope, made in the database before any server runs on it."""
    with opened_store(url, directory) as store:
        _, secret = create_token(store, "ci", ["run"])
    return secret


def test_a_server_that_starts_late_gets_the_whole_run(tmp_path: Path, gated: Project) -> None:
    port = free_port()
    with database("sqlite", tmp_path) as url:
        token = run_token(url, tmp_path)
        args = ("run", "-j", "1", "--report-to", f"http://127.0.0.1:{port}", "--token", token)
        with started(gated, *args) as child:
            wait_for((gated.root / "waiting").exists, "the run reached the gate")
            time.sleep(0.3)  # nothing listens yet: the start of the run is being retried
            with live_server(tmp_path / "server", url, port=port) as live:
                (gated.root / "gate").touch()
                done = finish(child, args)
                run = run_row(live.store, server_run(live))
    assert (done.code, done.stderr) == (0, ""), done
    assert run[:3] == ("passed", 22, 22)


def test_a_server_restarted_during_the_run_loses_nothing(tmp_path: Path, gated: Project) -> None:
    port = free_port()
    with database("sqlite", tmp_path) as url:
        token = run_token(url, tmp_path)
        args = ("run", "-j", "1", "--report-to", f"http://127.0.0.1:{port}", "--token", token)
        with started(gated, *args) as child:
            with live_server(tmp_path / "server", url, port=port) as first:
                wait_for((gated.root / "waiting").exists, "the run reached the gate")
                wait_for(
                    lambda: scalar(first.store, "SELECT COUNT(*) FROM results") == 1,
                    "the first result was stored",
                )
            # The server is gone: the rest of the run happens meanwhile, and waits.
            (gated.root / "gate").touch()
            time.sleep(0.5)
            with live_server(tmp_path / "server", url, port=port) as second:
                done = finish(child, args)
                run = run_row(second.store, server_run(second))
                stored = scalar(second.store, "SELECT COUNT(*) FROM results")
    assert (done.code, done.stderr) == (0, ""), done
    assert run[:3] == ("passed", 22, 22)
    assert stored == 22


def test_the_project_is_the_clients(sqlite_server: LiveServer, project: Project) -> None:
    project.write("remote.assay.yaml", "tests:\n" + tiny(1))
    done = project.assay(
        "run", "--report-to", sqlite_server.url, "--token", sqlite_server.token("run")
    )
    assert done.code == 0, done
    projects = rows(
        sqlite_server.store,
        "SELECT p.name FROM runs r JOIN projects p ON p.id = r.project_id",
    )
    assert projects == [(project.root.name,)]
    assert project.root.name != PROJECT


# -- A server that asks the reporter to come back later.


class _Busy(http.server.BaseHTTPRequestHandler):
    """Forwards to the real server, except that the first batches get 503 and then 429."""

    refusals: ClassVar[list[int]] = [503, 429]
    upstream: ClassVar[str] = ""
    seen: ClassVar[list[tuple[str, int]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if "/batches/" in self.path and self.refusals:
            status = self.refusals.pop(0)
            self.seen.append((self.path, status))
            self.send_response(status)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"code": "busy", "message": "come back later"}}')
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        request = urllib.request.Request(self.upstream + self.path, body, headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, payload = answer.status, answer.read()
        self.seen.append((self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads `seen` instead."""


def test_a_busy_server_is_retried_until_it_takes_the_batch(
    sqlite_server: LiveServer, project: Project
) -> None:
    project.write("remote.assay.yaml", "tests:\n" + tiny(5))
    _Busy.upstream, _Busy.refusals, _Busy.seen = sqlite_server.url, [503, 429], []
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        done = project.assay("run", "-q", "--report-to", url, "--token", sqlite_server.token("run"))
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert done.code == 0, done
    assert done.stderr == ""
    first_batch = [status for path, status in _Busy.seen if path.endswith("/batches/1")]
    assert first_batch == [503, 429, 201]
    run_id = server_run(sqlite_server)
    assert (
        scalar(sqlite_server.store, "SELECT COUNT(*) FROM results WHERE run_id = :r", r=run_id) == 5
    )
    assert run_row(sqlite_server.store, run_id)[0] == "passed"


def test_the_python_api_reports_to_a_server_too(
    sqlite_server: LiveServer, project: Project
) -> None:
    project.write("remote.assay.yaml", "tests:\n" + tiny(3))
    settings = Settings(root=project.root, data_dir=project.root / ".assay", tmp_dir=project.runs)
    result = assay.run(
        settings=settings, report_to=sqlite_server.url, token=sqlite_server.token("run")
    )
    assert result.ok
    run_id = server_run(sqlite_server)
    assert run_row(sqlite_server.store, run_id)[0] == "passed"
    assert (
        scalar(sqlite_server.store, "SELECT COUNT(*) FROM results WHERE run_id = :r", r=run_id) == 3
    )

    with pytest.warns(RecordingWarning, match="401"):
        again = assay.run(settings=settings, report_to=sqlite_server.url, token="assay_wrong")
    assert again.ok
