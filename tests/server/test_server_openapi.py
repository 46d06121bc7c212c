"""schemathesis against the app's own OpenAPI spec: no 5xx, and every response as documented.

Each operation gets a bounded, deterministic set of requests (examples,
boundary values, then a few random ones), sent over HTTP with an admin token
to a real server on each backend with a little history in it, so that small
ids name real runs and results. Every built-in check runs, except:

- `negative_data_rejection`: pydantic reads leniently (0 for false, Unix
  seconds for a date), so accepting more than the spec says is expected, and
  what is accepted is still answered as documented.

`positive_data_acceptance` also allows 400: a cursor is opaque, any string
is schema-valid, and only ones from a previous page are accepted. Bodies
that are documents (an imported report, a batch of wire events) may also be
422: a JSON Schema cannot say what a valid JUnit file or event stream is.

Live streams are fuzzed too. One follows a run until the run finishes, and
a run started through ingest never does here, so schemathesis reads at most
a few events of a stream, for a few seconds, then lets it go.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import negative_data_rejection

from assay.config import Settings
from assay.server import ServerConfig, create_app
from assay.store.tokens import create_token
from fixtures.databases import BACKENDS, database, result, write_run
from fixtures.server import LiveServer, live_server

SPEC = create_app(ServerConfig(Settings(root=Path("/nonexistent")))).openapi()
ACCEPTED = ["2xx", "400", "401", "403", "404"]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20251101,
        "generation": {"max-examples": 15, "deterministic": True, "database": "none"},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        "request-timeout": 30,
        "operations": [
            {
                "include-path-regex": "/(events|log)$",
                "max-stream-events": 10,
                "request-timeout": 5,
            },
            {
                "include-path-regex": "^/api/v1/(imports|ingest/runs/[^/]+/batches/)",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
        ],
    }
)
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)
# An imported report log is a file of JSON lines: sent as the bytes generated for it.
schemathesis.serializer.alias("application/jsonl", "application/octet-stream")


class Admin:
    """An admin token for the fuzzer, made again when the fuzzer revokes it."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.renew()

    def renew(self) -> None:
        info, self.secret = create_token(self.server.store, "schemathesis", ["admin"])
        self.id = info.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture(scope="module", params=BACKENDS)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Admin]:
    """A server with three runs: passes, failures, a retry and a long log (an artifact)."""
    root = tmp_path_factory.mktemp("openapi")
    with (
        pytest.MonkeyPatch.context() as patch,
        database(request.param, root) as url,
    ):
        # Webhooks the fuzzer registers name hosts elsewhere: their deliveries go to a
        # proxy that refuses at once, rather than out to the network (or to a DNS lookup
        # that stopping the server would wait for).
        patch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        patch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        with live_server(root / "project", url, webhook_attempts=1) as server:
            for n in range(3):
                write_run(
                    server.store,
                    [
                        result("tests/a.assay.yaml::passes", stdout="x\n" * 3000 if n else None),
                        result("tests/a.assay.yaml::fails", "failed" if n != 1 else "passed"),
                        result("tests/b.assay.yaml::retried", retried=1),
                        result("tests/b.assay.yaml::skipped", "skipped"),
                    ],
                    started_at=1_750_000_000 + 60 * n,
                )
            yield Admin(server)


def test_the_fuzzed_spec_is_the_one_the_server_serves(api: Admin) -> None:
    with api.server.client() as client:
        assert client.get("/api/openapi.json").json() == SPEC


@schema.parametrize()
def test_api_answers_as_its_spec_says(case: schemathesis.Case, api: Admin) -> None:
    try:
        response = case.call_and_validate(
            base_url=api.server.url,
            headers=api.headers,
            excluded_checks=[negative_data_rejection],
        )
    finally:
        revoked = case.method == "DELETE" and case.path == "/api/v1/tokens/{token_id}"
        if revoked and case.path_parameters == {"token_id": api.id}:
            api.renew()
    assert response.status_code < 500
