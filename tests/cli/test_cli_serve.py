"""`assay serve` and `assay token`, as a user runs them: real processes, real signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fixtures.databases import BACKENDS, database
from fixtures.projects import Project, clean_environ
from fixtures.server import free_port


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


def test_a_token_is_printed_once_listed_without_its_secret_and_revoked(
    project: Project, db_url: str
) -> None:
    created = project.assay("token", "create", "--name", "ci", "--scope", "run", "--db", db_url)
    assert created.code == 0, created
    secret = created.stdout.strip()
    assert secret.startswith("assay_") and len(secret) > 40
    assert "shown only now" in created.stderr

    listed = project.assay("token", "list", "--json", "--db", db_url)
    (token,) = json.loads(listed.stdout)
    assert (token["name"], token["scopes"], token["revoked"]) == ("ci", ["run"], False)
    assert secret not in listed.output

    revoked = project.assay("token", "revoke", str(token["id"]), "--db", db_url)
    assert revoked.code == 0 and "revoked token" in revoked.stdout
    listed = project.assay("token", "list", "--json", "--db", db_url)
    assert json.loads(listed.stdout)[0]["revoked"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "revoke", "99"), "no token 99"),
        (("token", "create", "--name", "x", "--scope", "root"), "invalid choice: 'root'"),
        (("token", "create", "--scope", "read"), "--name"),
        (("serve", "--port", "0"), "port must be between 1 and 65535"),
    ],
    ids=["unknown-token", "unknown-scope", "no-name", "bad-port"],
)
def test_mistakes_are_usage_errors(project: Project, args: tuple[str, ...], message: str) -> None:
    result = project.assay(*args)
    assert result.code == 4, result
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_serve_answers_and_stops_quietly_on_a_signal(
    project: Project, stop: signal.Signals
) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "assay", "serve", "--port", str(port)],
        cwd=project.root,
        env=clean_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        assert health.json()["status"] == "ok"
        runs = httpx.get(f"http://127.0.0.1:{port}/api/v1/runs", timeout=5)
        assert runs.status_code == 200  # reading is public on loopback
        server.send_signal(stop)
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0
    assert f"serving project 'project' at http://127.0.0.1:{port}/" in stderr
    assert "server stopped" in stderr
    assert "Traceback" not in stderr


def test_a_public_url_must_be_a_web_address(project: Project) -> None:
    result = project.assay("serve", "--public-url", "assay.example.com")
    assert result.code == 4, result
    assert "public URL must be http:// or https:// and a host" in result.stderr
