"""Services in runs: scopes, readiness failures, crashes and teardown, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from assay.engine import RunOptions, execute
from assay.model import Outcome
from assay.runners import RunnerConfig
from assay.sandbox import Cancellation
from fixtures.projects import require_program

if TYPE_CHECKING:
    from conftest import Scratch

# A service that notes each start (its pid) in `starts`, then serves HTTP on its port.
WEB = """\
services:
  web:
    run: >-
      echo $$ >> "${{ suite.dir }}/starts";
      exec python3 -m http.server ${{ port }} --bind 127.0.0.1
    ready: {http: "http://127.0.0.1:${{ port }}/", timeout: 20s}
    scope: SCOPE
"""
GET = (
    'python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1]); '
    "print(sys.argv[1])\" '${{ services.web.url }}/'"
)


def web(scope: str = "suite") -> str:
    return WEB.replace("SCOPE", scope)


def pids(path: Path) -> list[int]:
    """The pids a service wrote to `path`, one per start."""
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def assert_gone(pid_list: list[int]) -> None:
    """No process of these pids (and so no service) is left."""
    assert pid_list
    for pid in pid_list:
        try:
            status = psutil.Process(pid).status()
        except psutil.NoSuchProcess:
            continue
        assert status == psutil.STATUS_ZOMBIE, f"process {pid} is still running ({status})"


class TestScopes:
    @pytest.mark.parametrize(
        ("scope", "starts"), [("suite", 1), ("run", 1), ("test", 2)], ids=["suite", "run", "test"]
    )
    def test_instances_per_scope(self, scratch: Scratch, scope: str, starts: int) -> None:
        tests = scratch.load(
            web(scope)
            + f"tests:\n  - name: first\n    run: {GET}\n  - name: second\n    run: {GET}\n"
        )
        result = scratch.run(tests, jobs=1)
        assert [r.outcome for r in result.results] == [Outcome.PASSED, Outcome.PASSED]
        started = pids(scratch.root / "starts")
        assert len(started) == starts
        assert_gone(started)
        urls = {r.attempts[0].stdout.text for r in result.results if r.attempts[0].stdout}
        assert len(urls) == starts  # a port of its own for each instance

    def test_tests_without_services_start_none(self, scratch: Scratch) -> None:
        tests = scratch.load(web() + "tests:\n  - name: plain\n    run: 'true'\n")
        assert scratch.run(tests).results[0].outcome is Outcome.PASSED
        assert pids(scratch.root / "starts") == []

    def test_listed_service_starts_without_a_reference(self, scratch: Scratch) -> None:
        tests = scratch.load(
            web() + "tests:\n  - name: listed\n    services: [web]\n    run: 'true'\n"
        )
        assert scratch.run(tests).results[0].outcome is Outcome.PASSED
        assert_gone(pids(scratch.root / "starts"))

    def test_a_service_gets_what_it_needs(self, scratch: Scratch) -> None:
        tests = scratch.load(
            web()
            + """\
  app:
    run: echo "upstream ${{ services.web.url }}"; exec sleep 60
    ready: {log: "^upstream http://127[.]0[.]0[.]1:[0-9]+$", timeout: 10s}
tests:
  - name: uses the app
    run: echo "${{ services.app.log }}"
"""
        )
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.PASSED, result.failures
        assert result.attempts[0].stdout is not None
        log = Path(result.attempts[0].stdout.text.strip())
        assert log.name.startswith("app")
        assert_gone(pids(scratch.root / "starts"))


class TestFailures:
    def test_readiness_failure_errors_every_test_that_needs_it(self, scratch: Scratch) -> None:
        tests = scratch.load(
            """\
services:
  broken:
    run: echo "starting" >> "${{ suite.dir }}/starts"; echo "cannot bind"; exec sleep 60
    ready: {tcp: "127.0.0.1:${{ port }}", timeout: 1s}
tests:
  - name: one
    run: echo ${{ services.broken.port }}
  - name: two
    run: echo ${{ services.broken.port }}
  - name: unrelated
    run: 'true'
"""
        )
        one, two, unrelated = scratch.run(tests, jobs=1).results
        for result in (one, two):
            assert result.outcome is Outcome.ERROR
            [failure] = result.failures
            assert failure.expectation == "service"
            assert "cannot bind" in failure.message  # the service's last log lines
        assert unrelated.outcome is Outcome.PASSED
        # Not tried again for the second test: the same error at once.
        assert (scratch.root / "starts").read_text().count("starting") == 1

    def test_a_crash_stops_the_tests_using_it(self, scratch: Scratch) -> None:
        tests = scratch.load(
            web()
            + """\
tests:
  - name: kills the service, then would wait
    run: kill -9 "$(head -1 '${{ suite.dir }}/starts')"; sleep 30; touch '${{ suite.dir }}/finished'
    services: [web]
    timeout: 50s
  - name: later
    run: echo ${{ services.web.url }}
"""
        )
        crashed, later = scratch.run(tests, jobs=1).results
        assert crashed.outcome is Outcome.ERROR
        [failure] = crashed.failures
        assert failure.expectation == "service"
        assert "SIGKILL" in failure.message
        assert not (scratch.root / "finished").exists()  # stopped, not left to run out
        assert later.outcome is Outcome.ERROR
        assert later.failures[0].expectation == "service"


class TestInterrupts:
    def test_a_cancelled_run_stops_its_services(self, scratch: Scratch) -> None:
        tests = scratch.load(
            web()
            + "tests:\n  - name: waits\n    services: [web]\n"
            + "    run: touch '${{ suite.dir }}/running'; sleep 60\n"
        )
        cancel = Cancellation()
        running = scratch.root / "running"
        done = threading.Event()

        def cancel_when_running() -> None:
            while not running.exists() and not done.wait(0.02):
                pass
            cancel.cancel("stopped by the test")

        thread = threading.Thread(target=cancel_when_running)
        thread.start()
        options = RunOptions(jobs=1, tmp_dir=scratch.runs, runner=RunnerConfig(grace=0.2))
        try:
            result = execute(tests, options, (), None, cancel)
        finally:
            done.set()
            thread.join()
        assert running.exists()
        assert result.interrupted is not None
        assert_gone(pids(scratch.root / "starts"))

    def test_the_run_deadline_stops_services(self, scratch: Scratch) -> None:
        tests = scratch.load(
            web() + "tests:\n  - name: waits\n    services: [web]\n    run: sleep 60\n"
        )
        result = scratch.run(tests, timeout=2.0)
        assert result.interrupted is not None
        assert result.results[0].outcome is Outcome.TIMEOUT
        assert_gone(pids(scratch.root / "starts"))

    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
    def test_a_signal_to_assay_run_stops_services(
        self, tmp_path: Path, sig: signal.Signals
    ) -> None:
        suite = tmp_path / "svc.assay.yaml"
        suite.write_text(
            web()
            + "tests:\n  - name: waits\n    services: [web]\n"
            + "    run: touch '${{ suite.dir }}/running'; sleep 60\n"
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "assay", "run", "--no-record", str(suite)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        running = tmp_path / "running"
        while not running.exists() and process.poll() is None:
            threading.Event().wait(0.02)
        os.kill(process.pid, sig)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 2, output  # interrupted
        assert b"interrupted" in output
        assert_gone(pids(tmp_path / "starts"))


class TestRealServers:
    def test_redis_as_a_service(self, scratch: Scratch) -> None:
        require_program("redis-server")
        require_program("redis-cli")
        tests = scratch.load(
            """\
services:
  redis:
    run: [redis-server, --port, "${{ port }}", --bind, 127.0.0.1, --save, "", --appendonly, "no"]
    ready: {command: "redis-cli -p ${{ port }} ping", timeout: 20s}
tests:
  - name: set and get
    run: >-
      redis-cli -p ${{ services.redis.port }} set k v >/dev/null &&
      redis-cli -p ${{ services.redis.port }} get k
    expect:
      stdout: "v\\n"
"""
        )
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.PASSED, result.failures
