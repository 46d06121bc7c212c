"""`assay_service`: real services started for real pytest sessions.

Each test writes a small pytest project with `pytester` and runs pytest on
it in a child process, so that every session starts, stops and leaks (or
not) its own services. The services are `python -m http.server` behind an
http probe; their run commands append to a file in the project, which counts
how often each was started, and the tests inside record the pids they got,
which are checked with psutil once the session is over. Nothing is timed:
the child's timeout only turns a hang into a failure. Every test starts a
pytest session, which takes more than a second: they are all `slow`.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import psutil
import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
PATIENCE = 120.0
INI = """\
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider
filterwarnings = error
"""
SERVE = 'exec PYTHON -m http.server "${{ port }}" --bind 127.0.0.1'
READY = '{http: "http://127.0.0.1:${{ port }}/", timeout: 30s}'
SERVICES = f"""\
services:
  api:
    run: echo started >> api-starts; {SERVE}
    ready: {READY}
  fresh:
    run: echo started >> fresh-starts; {SERVE}
    ready: {READY}
    scope: test
  web:
    run: echo "${{{{ services.api.url }}}}" > upstream; {SERVE}
    ready: {READY}
  sleepy:
    run: [PYTHON, -c, "import time; time.sleep(60)"]
    ready: {{http: "http://127.0.0.1:${{{{ port }}}}/", timeout: 1s}}
""".replace("PYTHON", shlex.quote(sys.executable))
# A test of the child session: gets `name` with `options`, checks it answers, notes its pid.
USES = """\
import pathlib
import urllib.request


def test_{test}(assay_service):
    service = assay_service({options})
    with pathlib.Path("pids").open("a") as pids:
        pids.write(f"{{service.pid}}\\n")
    with urllib.request.urlopen(service.url + "/hello.txt", timeout=30) as answer:
        assert answer.read() == b"hello"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytest project whose ini names `services.assay.yaml`, and a file the services serve."""
    pytester.makeini(INI + "assay_services = services.assay.yaml\n")
    pytester.makefile(".assay.yaml", services=SERVICES)
    pytester.makefile(".txt", hello="hello")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in the project, as a child process."""
    return pytester.runpytest_subprocess(*args, timeout=PATIENCE)


def uses(test: str, *arguments: str) -> str:
    """A child test that asks for a service with these arguments, as Python source."""
    return USES.format(test=test, options=", ".join(arguments))


def lines(pytester: pytest.Pytester, name: str) -> list[str]:
    """The lines of a file the child session wrote, or none if it wrote none."""
    path = pytester.path / name
    return path.read_text().splitlines() if path.exists() else []


def pids(pytester: pytest.Pytester) -> list[int]:
    """The pids the child's tests got, in order."""
    return [int(line) for line in lines(pytester, "pids")]


def gone(pid: int) -> bool:
    """Whether no process `pid` runs (a zombie counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_factory_gives_a_running_service(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_api="""
        def test_api(assay_service):
            api = assay_service("api")
            assert api.name == "api"
            assert api.url == f"http://127.0.0.1:{api.port}"
            assert api.host == "127.0.0.1"
            assert api.ports == {"port": api.port}
            assert api.values["log"] == str(api.log_path)
            assert api.log_path.parent.name == "assay-services"
            assert api.died() is None
            assert '"GET / HTTP/1.1" 200' in api.tail()
            assert repr(api) == f"<RunningService 'api' at {api.url}>"
        """
    )
    project.makepyfile(test_answers=uses("answers", '"api"'))

    result = run(project)

    result.assert_outcomes(passed=2)
    assert all(map(gone, pids(project)))


def test_a_session_instance_is_started_once_for_every_test(project: pytest.Pytester) -> None:
    project.makepyfile(test_one=uses("one", '"api"'), test_two=uses("two", '"api"'))
    project.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def api(assay_service):
            return assay_service("api")

        @pytest.fixture(autouse=True)
        def same(api, assay_service):
            assert assay_service("api").pid == api.pid
        """
    )

    result = run(project)

    result.assert_outcomes(passed=2)
    assert lines(project, "api-starts") == ["started"]
    first, second = pids(project)
    assert first == second
    assert gone(first), "the session's instance outlived the session"


@pytest.mark.parametrize(
    ("options", "starts", "files"),
    [
        ('"api", scope="function"', "api-starts", 1),
        ('"fresh"', "fresh-starts", 1),
        ('"api", scope="module"', "api-starts", 2),
    ],
    ids=["function-argument", "scope-test-in-the-file", "module"],
)
def test_a_narrower_scope_gets_a_fresh_instance(
    project: pytest.Pytester, options: str, starts: str, files: int
) -> None:
    for file in range(files):
        project.makepyfile(
            **{f"test_file{file}": uses("one", options) + "\n\n" + uses("two", options)}
        )

    result = run(project)

    instances = 2 if files == 1 else files
    result.assert_outcomes(passed=2 * files)
    assert len(lines(project, starts)) == instances
    assert len(set(pids(project))) == instances
    assert all(map(gone, pids(project)))


def test_a_narrower_instance_stops_with_its_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_stops="""
        import pathlib
        import psutil

        def test_first(assay_service):
            pathlib.Path("first").write_text(str(assay_service("fresh").pid))

        def test_then(assay_service):
            pid = int(pathlib.Path("first").read_text())
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
            assert assay_service("fresh").pid != pid
        """
    )

    run(project).assert_outcomes(passed=2)


def test_needs_start_first_and_are_shared(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_web="""
        import pathlib

        def test_web(assay_service):
            web = assay_service("web", scope="function")
            api = assay_service("api")
            assert pathlib.Path("upstream").read_text().strip() == api.url
            assert web.port != api.port
        """
    )

    run(project).assert_outcomes(passed=1)
    assert lines(project, "api-starts") == ["started"]


def test_services_are_stopped_when_the_session_is_interrupted(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_interrupted=uses("interrupted", '"api"') + "    raise KeyboardInterrupt\n"
    )

    result = run(project)

    assert result.ret == pytest.ExitCode.INTERRUPTED
    (pid,) = pids(project)
    assert gone(pid), "Ctrl-C left the service running"


def test_a_service_that_died_fails_the_next_test_that_asks_for_it(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_dies="""
        import os
        import signal
        import time

        def test_kill(assay_service):
            api = assay_service("api")
            os.kill(api.pid, signal.SIGKILL)
            for _ in range(3000):  # the kernel's time, not the service's
                if api.died() is not None:
                    break
                time.sleep(0.01)
            assert api.died() is not None

        def test_asks_again(assay_service):
            assay_service("api")

        def test_does_not_ask():
            pass
        """
    )

    result = run(project)

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_asks_again _*",
            "service 'api' was killed by SIGKILL",
            "last lines of its log */assay-services/api.log:",
            '*"GET / HTTP/1.1" 200*',
            "(it was started for the session and is not started again)",
        ]
    )
    assert "assay/services" not in result.stdout.str(), "Assay's traceback is shown"


def test_a_service_that_is_never_ready_fails_the_tests_that_ask_for_it(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_sleepy="""
        def test_one(assay_service):
            assay_service("sleepy")

        def test_two(assay_service):
            assay_service("sleepy")
        """
    )

    result = run(project)

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_one _*",
            "service 'sleepy' was not ready after 1s: "
            "http probe GET http://127.0.0.1:*/ failed: connection refused*",
            "*_ test_two _*",
            "service 'sleepy' was not ready after 1s: *",
        ]
    )
    assert "assay/services" not in result.stdout.str(), "Assay's traceback is shown"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'assay_service("apx")',
            "assay_service('apx'): no service 'apx' in services.assay.yaml "
            "(it defines api, fresh, web, sleepy); did you mean 'api'?",
        ),
        (
            'assay_service("api", scope="class")',
            "assay_service('api'): scope must be one of session, module, function, not 'class'",
        ),
        (
            'assay_service("api", file="nowhere.assay.yaml")',
            "assay_service('api'): services file not found: */nowhere.assay.yaml",
        ),
    ],
    ids=["unknown-name", "unknown-scope", "missing-file-argument"],
)
def test_a_wrong_call_fails_the_test_with_what_is_wrong(
    project: pytest.Pytester, call: str, message: str
) -> None:
    project.makepyfile(test_wrong=f"def test_wrong(assay_service):\n    {call}\n")

    result = run(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*_ test_wrong _*", message])


def test_without_a_services_file_the_test_says_how_to_name_one(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_api='def test_api(assay_service):\n    assay_service("api")\n')

    result = run(pytester)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_api _*",
            "assay_service('api'): no services file: set assay_services in the "
            "pytest configuration, pass --assay-services FILE, or call "
            "assay_service('api', file=...)",
        ]
    )


def test_a_file_argument_is_relative_to_the_rootdir(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    (pytester.path / "defs").mkdir()
    (pytester.path / "defs" / "services.assay.yaml").write_text(SERVICES)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_api.py").write_text(
        "def test_api(assay_service):\n"
        '    assert assay_service("api", file="defs/services.assay.yaml").port\n'
    )

    run(pytester).assert_outcomes(passed=1)
    assert lines(pytester, "defs/api-starts") == ["started"]


def test_the_command_line_names_the_file_relative_to_where_pytest_runs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    (pytester.path / "defs").mkdir()
    (pytester.path / "defs" / "dev.assay.yaml").write_text(SERVICES)
    pytester.makepyfile(test_api='def test_api(assay_service):\n    assay_service("api")\n')

    run(pytester, "--assay-services", "defs/dev.assay.yaml").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("setting", "text", "error"),
    [
        (
            ("ini", "missing.assay.yaml"),
            None,
            "ERROR: assay_services in tox.ini: services file not found: */missing.assay.yaml",
        ),
        (
            ("ini", "services.assay.yaml"),
            "services:\n  api:\n    ready: {tcp: nowhere}\n",
            "ERROR: assay_services in tox.ini: services.assay.yaml is not a valid services file:",
        ),
        (
            ("flag", "services.assay.yaml"),
            "tests: []\n",
            "ERROR: --assay-services: services.assay.yaml is not a valid services file:",
        ),
    ],
    ids=["missing", "invalid", "invalid-by-flag"],
)
def test_a_broken_services_file_stops_the_session_at_once(
    pytester: pytest.Pytester, setting: tuple[str, str], text: str | None, error: str
) -> None:
    how, name = setting
    pytester.makeini(INI + (f"assay_services = {name}\n" if how == "ini" else ""))
    if text is not None:
        (pytester.path / name).write_text(text)
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")

    result = run(pytester, *(("--assay-services", name) if how == "flag" else ()))

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([error])
    assert "Traceback" not in result.stderr.str()


def test_each_xdist_worker_has_its_own_instances(project: pytest.Pytester) -> None:
    for n in range(4):
        project.makepyfile(**{f"test_{n}": uses(f"uses_{n}", '"api"')})

    result = run(project, "-n", "2")

    result.assert_outcomes(passed=4)
    started = set(pids(project))
    assert 1 <= len(started) <= 2
    assert len(lines(project, "api-starts")) == len(started)
    assert all(map(gone, started))


def test_the_example_project_passes(pytester: pytest.Pytester) -> None:
    shutil.copytree(ROOT / "examples" / "pytest-services", pytester.path, dirs_exist_ok=True)

    run(pytester).assert_outcomes(passed=3)
