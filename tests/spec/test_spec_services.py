"""The `services`, `sandbox` and `pytest` keys: what they load to and every mistake in them."""

from __future__ import annotations

import pytest

from assay.model import Isolation, Probe, PytestSpec

F = "suite.assay.yaml"

WEB = (
    "services:\n"
    "  web:\n"
    "    run: [python3, -m, http.server, '${{ port }}']\n"
    "    ready: {http: 'http://127.0.0.1:${{ port }}/', status: 200, timeout: 5s}\n"
)


def case(id_: str, text: str, *problems: str) -> object:
    return pytest.param(text, [f"{F}:{p}" for p in problems], id=id_)


class TestServices:
    def test_a_reference_uses_the_service_and_stays_as_written(self, suites) -> None:
        [test] = suites.load(WEB + "tests:\n  - run: curl ${{ services.web.url }}/x\n")
        [service] = test.services
        assert service.name == "web"
        assert service.argv == ("python3", "-m", "http.server", "${{ port }}")
        assert service.ready == Probe(
            "http", "http://127.0.0.1:${{ port }}/", status=200, timeout=5.0
        )
        assert service.scope == "suite"
        assert test.run == "curl ${{ services.web.url }}/x"

    def test_references_anywhere_in_the_test_count(self, suites) -> None:
        [test] = suites.load(WEB + "tests:\n  - run: cat\n    stdin: '${{ services.web.port }}'\n")
        assert [s.name for s in test.services] == ["web"]

    def test_listing_a_service_uses_it(self, suites) -> None:
        [test] = suites.load(WEB + "tests:\n  - run: 'true'\n    services: web\n")
        assert [s.name for s in test.services] == ["web"]

    def test_a_reference_in_a_service_needs_the_other(self, suites) -> None:
        [test] = suites.load(
            WEB
            + "  app:\n    run: app --upstream ${{ services.web.url }} --port ${{ ports.admin }}\n"
            + "    ports: [admin]\n    scope: run\n"
            + "tests:\n  - run: echo ${{ services.app.ports.admin }}\n"
        )
        [app] = test.services
        assert [n.name for n in app.needs] == ["web"]
        assert app.ports == ("port", "admin")
        assert app.scope == "run"

    def test_tests_without_references_use_none(self, suites) -> None:
        [test] = suites.load(WEB + "tests:\n  - run: echo\n")
        assert test.services == ()

    @pytest.mark.parametrize(
        ("ready", "probe"),
        [
            ("{tcp: '127.0.0.1:${{ port }}'}", Probe("tcp", "127.0.0.1:${{ port }}")),
            ("{log: '^ready$', timeout: 2s}", Probe("log", "^ready$", timeout=2.0)),
            (
                "{command: 'redis-cli ping', interval: 10ms}",
                Probe("command", argv=("sh", "-c", "redis-cli ping"), interval=0.01),
            ),
            ("{http: 'http://x/', body: 'ok'}", Probe("http", "http://x/", body="ok")),
        ],
        ids=["tcp", "log", "command", "http-body"],
    )
    def test_probes(self, suites, ready: str, probe: Probe) -> None:
        [test] = suites.load(
            f"services:\n  s:\n    run: x\n    ready: {ready}\n"
            "tests:\n  - run: 'true'\n    services: [s]\n"
        )
        assert test.services[0].ready == probe

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            case(
                "unknown-service",
                WEB + "tests:\n  - run: echo ${{ services.wbe.url }}\n",
                "6:15: unknown variable 'services.wbe.url'; did you mean 'web.url'?",
            ),
            case(
                "unknown-attribute",
                WEB + "tests:\n  - run: echo ${{ services.web.adress }}\n",
                "6:15: unknown variable 'services.web.adress'",
            ),
            case(
                "listed-unknown",
                WEB + "tests:\n  - run: echo\n    services: [db]\n",
                "7:15: services: no service named 'db' (services: web)",
            ),
            case(
                "no-run",
                "services:\n  s: {ready: {tcp: 'h:1'}}\ntests:\n  - run: echo\n",
                "2:3: service 's' has no 'run': say how to start it",
            ),
            case(
                "two-probes",
                "services:\n  s: {run: x, ready: {tcp: 'h:1', log: x}}\ntests:\n  - run: echo\n",
                "2:22: services.s.ready needs exactly one of http, tcp, log, command,"
                " not 2 (tcp, log)",
            ),
            case(
                "status-on-tcp",
                "services:\n  s: {run: x, ready: {tcp: 'h:1', status: 200}}\n"
                "tests:\n  - run: echo\n",
                "2:35: services.s.ready: 'status' is for http probes only",
            ),
            case(
                "bad-scope",
                "services:\n  s: {run: x, scope: session}\ntests:\n  - run: echo\n",
                "2:22: scope must be one of run, suite, test, not 'session'",
            ),
            case(
                "cycle",
                "services:\n  a: {run: x, needs: [b]}\n  b: {run: x, needs: [a]}\n"
                "tests:\n  - run: echo\n",
                "2:3: services need each other in a cycle: 'a' -> 'b' -> 'a'",
            ),
            case(
                "needs-unknown",
                "services:\n  a: {run: x, needs: [b]}\ntests:\n  - run: echo\n",
                "2:3: service 'a' needs 'b': no service of that name in this suite",
            ),
            case(
                "reference-in-expect",
                WEB + "tests:\n  - run: echo\n    expect: {stdout: '${{ services.web.port }}'}\n",
                "7:13: expect cannot refer to services: their values are known only while the"
                " test runs (pass them to the command instead)",
            ),
            case(
                "own-port-in-a-test",
                "tests:\n  - run: echo ${{ port }}\n",
                "2:15: invalid expression '${{ port }}': expected one of env, services, suite,"
                " vars followed by .name",
            ),
        ],
    )
    def test_mistakes(self, suites, text: str, expected: list[str]) -> None:
        assert suites.problems(text.encode()) == expected


class TestSandbox:
    @pytest.mark.parametrize(
        ("value", "isolation"),
        [
            ("bwrap", Isolation("bwrap")),
            ("process", Isolation()),
            (
                "{type: bwrap, network: true, binds: [/opt], memory: 64M, cpus: 1}",
                Isolation(
                    "bwrap", network=True, binds=("/opt",), memory_bytes=64 * 2**20, cpus=1.0
                ),
            ),
            (
                "{type: container, image: busybox, user: '1000:1000', pids: 32}",
                Isolation("container", image="busybox", user="1000:1000", pids=32),
            ),
        ],
        ids=["bwrap", "process", "bwrap-options", "container"],
    )
    def test_values(self, suites, value: str, isolation: Isolation) -> None:
        [test] = suites.load(f"tests:\n  - run: echo\n    sandbox: {value}\n")
        assert test.sandbox == isolation

    def test_defaults_apply_and_tests_override(self, suites) -> None:
        first, second = suites.load(
            "defaults: {sandbox: bwrap}\ntests:\n  - run: a\n  - run: b\n    sandbox: process\n"
        )
        assert first.sandbox.kind == "bwrap"
        assert second.sandbox.kind == "process"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            case(
                "unknown-kind",
                "tests:\n  - run: echo\n    sandbox: docker\n",
                "3:14: unknown sandbox 'docker': expected one of process, bwrap, container",
            ),
            case(
                "container-without-image",
                "tests:\n  - run: echo\n    sandbox: container\n",
                "3:14: sandbox 'container' needs an image: {type: container, image: NAME}",
            ),
            case(
                "relative-bind",
                "tests:\n  - run: echo\n    sandbox: {type: bwrap, binds: [venv]}\n",
                "3:35: sandbox.binds: 'venv' must be an absolute path",
            ),
            case(
                "image-for-bwrap",
                "tests:\n  - run: echo\n    sandbox: {type: bwrap, image: x}\n",
                "3:28: sandbox: 'image' is for container only",
            ),
            case(
                "service-without-network",
                WEB + "tests:\n  - run: echo ${{ services.web.url }}\n    sandbox: bwrap\n",
                "6:5: the test uses service 'web', but its bwrap sandbox has no network:"
                " add network: true to sandbox",
            ),
            case(
                "service-in-a-container",
                WEB
                + "tests:\n  - run: echo ${{ services.web.url }}\n"
                + "    sandbox: {type: container, image: x}\n",
                "6:5: the test uses service 'web', but services listen on this host's loopback,"
                " which a container cannot reach: use sandbox process or bwrap",
            ),
        ],
    )
    def test_mistakes(self, suites, text: str, expected: list[str]) -> None:
        assert suites.problems(text.encode()) == expected


class TestPytestKey:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("tests/ -k 'a or b'", PytestSpec(("tests/", "-k", "a or b"))),
            ("[tests/, -x]", PytestSpec(("tests/", "-x"))),
            ("{args: tests, python: .venv/bin/python}", PytestSpec(("tests",), ".venv/bin/python")),
        ],
        ids=["string", "list", "mapping"],
    )
    def test_values(self, suites, value: str, expected: PytestSpec) -> None:
        [test] = suites.load(f"tests:\n  - name: unit\n    pytest: {value}\n")
        assert test.pytest == expected
        assert test.kind == "pytest"

    def test_a_test_does_one_thing(self, suites) -> None:
        assert suites.problems(b"tests:\n  - run: echo\n    pytest: tests\n") == [
            f"{F}:3:5: the test has 2 actions (run, pytest); a test does exactly one"
        ]
