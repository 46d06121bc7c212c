"""Recording runs: `assay.run` and `assay run` write runs, results, attempts and logs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import assay
from assay.api import RecordingWarning
from assay.model import Outcome
from assay.store import queries
from fixtures.databases import HistoryProject, opened_store, rows, scalar
from fixtures.projects import Project, git, isolate

MIXED = """\
suite: recorded
tests:
  - name: passes
    run: echo hello
    expect: {stdout: "hello\\n"}
  - name: fails
    run: echo hello
    expect: {stdout: "goodbye\\n"}
  - name: cannot start
    run: [no-such-program-for-assay-tests]
  - name: not today
    skip: waiting for a fix
    run: "true"
  - name: passes on retry
    retries: 2
    run: |
      n=$(cat '@COUNTER@' 2>/dev/null || echo 0)
      echo $((n + 1)) > '@COUNTER@'
      test "$n" -ge 1
  - name: keeps failing
    retries: 1
    run: echo nope >&2; exit 3
"""

PASSING = """\
tests:
  - name: one
    run: "true"
  - name: two
    run: echo two
"""

FAILING = """\
tests:
  - name: good
    run: "true"
  - name: bad
    run: "false"
"""

OUTPUTS = """\
tests:
  - name: exactly the tail
    run: head -c 4096 /dev/zero | tr '\\000' a
  - name: one byte more
    run: head -c 4097 /dev/zero | tr '\\000' b
  - name: big stderr
    run: seq 1 20000 >&2
  - name: small
    run: echo small
"""


@pytest.fixture
def mixed(recorded: HistoryProject, tmp_path: Path) -> HistoryProject:
    """A project with a suite that has every outcome, a retried flake and a retried failure."""
    recorded.write("recorded.assay.yaml", MIXED.replace("@COUNTER@", str(tmp_path / "counter")))
    return recorded


def test_api_run_is_recorded_with_its_totals(mixed: HistoryProject) -> None:
    result = assay.run(settings=mixed.settings())
    assert result.run_id is not None
    store = mixed.store()
    run = queries.get_run(store, result.run_id)
    assert (run.status, run.trigger, run.project) == ("failed", "api", "project")
    assert (run.total, run.passed, run.failed, run.errors, run.skipped, run.flaky) == (
        6,
        result.count(Outcome.PASSED),
        result.count(Outcome.FAILED),
        result.count(Outcome.ERROR),
        result.count(Outcome.SKIPPED),
        result.flaky,
    )
    assert (run.passed, run.failed, run.errors, run.skipped, run.flaky) == (2, 2, 1, 1, 1)
    assert run.duration == pytest.approx(result.duration)
    assert run.started_at.timestamp() == pytest.approx(result.started_at.timestamp(), abs=1e-3)
    assert run.reason is None
    assert scalar(store, "SELECT pid FROM runs WHERE id = :id", id=run.id) is not None


def test_results_keep_the_report_order(mixed: HistoryProject) -> None:
    result = assay.run(settings=mixed.settings())
    assert result.run_id is not None
    stored = queries.results(mixed.store(), result.run_id)
    assert [r.key for r in stored] == [r.test.id for r in result.results]
    assert [r.position for r in stored] == list(range(6))
    assert [r.outcome for r in stored] == [r.outcome.value for r in result.results]
    assert stored[0].key == "recorded.assay.yaml::passes"
    assert (stored[0].file, stored[0].line, stored[0].suite) == (
        "recorded.assay.yaml",
        3,
        "recorded",
    )


def test_every_attempt_is_kept(mixed: HistoryProject) -> None:
    result = assay.run(settings=mixed.settings())
    assert result.run_id is not None
    by_key = {r.name: r for r in queries.results(mixed.store(), result.run_id, with_attempts=True)}

    retried = by_key["passes on retry"]
    assert (retried.outcome, retried.flaky) == ("passed", True)
    assert [(a.number, a.outcome) for a in retried.attempts] == [(1, "failed"), (2, "passed")]
    assert retried.attempts[0].failures[0]["expectation"] == "exit"
    assert retried.duration == pytest.approx(sum(a.duration for a in retried.attempts))

    failing = by_key["keeps failing"]
    assert (failing.outcome, failing.flaky) == ("failed", False)
    assert [(a.number, a.outcome, a.exit_code) for a in failing.attempts] == [
        (1, "failed", 3),
        (2, "failed", 3),
    ]
    assert failing.attempts[1].stderr_tail == "nope\n"
    assert failing.message == "exit: exit code 3, expected 0"

    assert by_key["fails"].attempts[0].failures[0]["expectation"] == "stdout"
    assert "goodbye" in by_key["fails"].attempts[0].failures[0]["diff"]
    assert by_key["cannot start"].outcome == "error"
    assert by_key["not today"].attempts == ()
    assert by_key["not today"].reason == "waiting for a fix"
    assert rows(
        mixed.store(), "SELECT COUNT(*) FROM attempts WHERE run_id = :id", id=result.run_id
    ) == [(7,)]


def test_cli_run_is_recorded_with_its_options(mixed: HistoryProject) -> None:
    done = mixed.cli("run", "-k", "passes or fails", "-t", "none-such", "-j", "2")
    assert done.code == 5, done  # the tag selects nothing: no run, nothing recorded
    assert queries.list_runs(mixed.store()) == []

    done = mixed.cli("run", "recorded.assay.yaml", "-k", "passes or fails", "-j", "2")
    assert done.code == 1, done
    (run,) = queries.list_runs(mixed.store())
    assert (run.trigger, run.status, run.total) == ("cli", "failed", 3)
    options = scalar(mixed.store(), "SELECT options FROM runs WHERE id = :id", id=run.id)
    assert json.loads(options) == {"keyword": "passes or fails", "paths": ["recorded.assay.yaml"]}


def test_the_child_process_records_too(recorded: HistoryProject) -> None:
    recorded.write("passing.assay.yaml", PASSING)
    done = recorded.assay("run")
    assert done.code == 0, done
    (run,) = queries.list_runs(recorded.store())
    assert (run.trigger, run.status, run.passed) == ("cli", "passed", 2)


def test_git_branch_commit_and_dirtiness_are_recorded(recorded: HistoryProject) -> None:
    recorded.write("passing.assay.yaml", PASSING)
    recorded.write(".gitignore", ".assay/\n.runs/\n")
    git(recorded.root, "init", "-q", "-b", "trunk")
    git(recorded.root, "add", "-A")
    git(recorded.root, "commit", "-q", "-m", "first")
    commit = git(recorded.root, "rev-parse", "HEAD")

    clean = assay.run(settings=recorded.settings())
    recorded.write("passing.assay.yaml", PASSING + "  - name: three\n    run: 'true'\n")
    dirty = assay.run(settings=recorded.settings())

    store = recorded.store()
    assert clean.run_id is not None and dirty.run_id is not None
    first, second = queries.get_run(store, clean.run_id), queries.get_run(store, dirty.run_id)
    assert (first.branch, first.commit, first.dirty) == ("trunk", commit, False)
    assert (second.branch, second.commit, second.dirty) == ("trunk", commit, True)


def test_outside_a_checkout_no_git_facts_are_recorded(
    recorded: HistoryProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    inside = subprocess.run(
        ["git", "rev-parse"], cwd=recorded.root, capture_output=True, check=False
    )
    if inside.returncode == 0:
        pytest.skip("the temporary directory is inside a Git checkout")
    recorded.write("passing.assay.yaml", PASSING)
    result = assay.run(settings=recorded.settings())
    assert result.run_id is not None
    run = queries.get_run(recorded.store(), result.run_id)
    assert (run.branch, run.commit, run.dirty) == (None, None, None)


@pytest.mark.parametrize(
    "how",
    ["api", "flag", "environment", "config"],
    ids=["record-false", "no-record-flag", "ASSAY_RECORD-0", "config-record-false"],
)
def test_runs_can_go_unrecorded(
    recorded: HistoryProject, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    recorded.write("passing.assay.yaml", PASSING + "  - name: big\n    run: seq 1 5000\n")
    if how == "api":
        result = assay.run(record=False, settings=recorded.settings())
        assert result.ok and result.run_id is None
    else:
        if how == "environment":
            monkeypatch.setenv("ASSAY_RECORD", "0")
        elif how == "config":
            recorded.write("assay.toml", "record = false\n")
        args = ["run", "--no-record"] if how == "flag" else ["run"]
        done = recorded.cli(*args)
        assert done.code == 0, done
        assert "not recorded" not in done.stderr
    assert not (recorded.root / ".assay").exists()
    assert scalar(recorded.store(), "SELECT COUNT(*) FROM runs") == 0


BROKEN_DATABASES = [
    ("nosuch://nowhere", "invalid database URL 'nosuch://nowhere'"),
    ("sqlite:////proc/no/such/dir/assay.db", "cannot use the database sqlite:////proc/no/such"),
    ("postgresql+psycopg://someone:secret@127.0.0.1:1/x", "cannot use the database"),
]
BROKEN_IDS = ["invalid-url", "unwritable-sqlite", "unreachable-postgresql"]


@pytest.mark.parametrize(("url", "message"), BROKEN_DATABASES, ids=BROKEN_IDS)
def test_api_recording_failure_only_warns(
    project: Project, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    project.write("passing.assay.yaml", PASSING)
    isolate(monkeypatch, project.root)
    monkeypatch.setenv("ASSAY_DATABASE_URL", url)
    with pytest.warns(RecordingWarning, match="the run was not recorded") as warned:
        result = assay.run()
    assert result.ok
    assert result.run_id is None
    assert len(result.results) == 2
    assert message in str(warned[0].message)
    assert "secret" not in str(warned[0].message)


@pytest.mark.parametrize(
    ("url", "message", "suite", "code"),
    [
        (*BROKEN_DATABASES[0], PASSING, 0),
        (*BROKEN_DATABASES[0], FAILING, 1),
        (*BROKEN_DATABASES[1], FAILING, 1),
        (*BROKEN_DATABASES[2], FAILING, 1),
    ],
    ids=["passing-invalid-url", *(f"failing-{i}" for i in BROKEN_IDS)],
)
def test_cli_recording_failure_keeps_the_exit_code(
    project: Project, url: str, message: str, suite: str, code: int
) -> None:
    project.write("suite.assay.yaml", suite)
    done = project.assay("run", "--db", url)
    assert done.code == code, done
    warning = f"assay: warning: the run was not recorded: {message}"
    assert warning in done.stderr, done
    assert "Traceback" not in done.stderr
    assert "secret" not in done.output


def test_whole_logs_over_the_tail_become_artifacts(recorded: HistoryProject) -> None:
    recorded.write("outputs.assay.yaml", OUTPUTS)
    result = assay.run(settings=recorded.settings())
    assert result.ok and result.run_id is not None
    store = recorded.store()
    attempts = {
        r.name: r.attempts[0] for r in queries.results(store, result.run_id, with_attempts=True)
    }

    exact = attempts["exactly the tail"]
    assert (exact.stdout_size, exact.stdout_tail, exact.stdout_artifact) == (4096, "a" * 4096, None)

    over = attempts["one byte more"]
    assert (over.stdout_size, over.stdout_tail) == (4097, "b" * 4096)
    assert over.stdout_artifact is not None
    assert store.artifacts.path(over.stdout_artifact).read_bytes() == b"b" * 4097

    numbers = "".join(f"{n}\n" for n in range(1, 20001))
    big = attempts["big stderr"]
    assert big.stderr_size == len(numbers)
    assert big.stderr_tail == numbers[-4096:]
    assert big.stderr_artifact is not None
    path = store.artifacts.path(big.stderr_artifact)
    assert path == recorded.artifacts / big.stderr_artifact[:2] / big.stderr_artifact
    assert path.read_text() == numbers
    assert (big.stdout_size, big.stdout_tail, big.stdout_artifact) == (0, None, None)

    small = attempts["small"]
    assert (small.stdout_tail, small.stdout_size, small.stdout_artifact) == ("small\n", 6, None)

    assert rows(store, "SELECT sha256, size FROM artifacts ORDER BY size") == [
        (over.stdout_artifact, 4097),
        (big.stderr_artifact, len(numbers)),
    ]
    # The runner's copies were moved in, not left behind.
    assert list((recorded.artifacts / ".incoming").iterdir()) == []


def test_a_log_recorded_twice_is_stored_once(recorded: HistoryProject) -> None:
    recorded.write("outputs.assay.yaml", "tests:\n  - name: big\n    run: seq 1 5000\n")
    first = assay.run(settings=recorded.settings())
    second = assay.run(settings=recorded.settings())
    store = recorded.store()
    digests = rows(
        store,
        "SELECT run_id, stdout_artifact FROM attempts WHERE run_id IN (:a, :b) ORDER BY run_id",
        a=first.run_id,
        b=second.run_id,
    )
    assert digests[0][1] is not None and digests[0][1] == digests[1][1]
    assert scalar(store, "SELECT COUNT(*) FROM artifacts") == 1
    assert [p.name for p in recorded.artifacts.glob("??/*")] == [digests[0][1]]


def test_a_multibyte_log_over_4_kib_is_not_left_behind(recorded: HistoryProject) -> None:
    # 3000 two-byte characters: 6001 bytes, 3001 characters.
    recorded.write(
        "outputs.assay.yaml",
        "tests:\n  - name: accents\n    run: yes é | head -n 3000 | tr -d '\\n'; echo\n",
    )
    result = assay.run(settings=recorded.settings())
    assert result.ok and result.run_id is not None
    (stored,) = queries.results(recorded.store(), result.run_id, with_attempts=True)
    assert stored.attempts[0].stdout_size == 6001
    assert list((recorded.artifacts / ".incoming").iterdir()) == []
    assert stored.attempts[0].stdout_artifact is not None


def test_logs_are_not_left_behind_when_recording_fails(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write("big.assay.yaml", "tests:\n  - name: big\n    run: seq 1 5000\n")
    isolate(monkeypatch, project.root)
    monkeypatch.setenv("ASSAY_DATABASE_URL", "nosuch://nowhere")
    with pytest.warns(RecordingWarning):
        assert assay.run().ok
    incoming = project.root / ".assay" / "artifacts" / ".incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


def test_a_run_cut_short_is_recorded_as_interrupted(recorded: HistoryProject) -> None:
    recorded.write(
        "slow.assay.yaml",
        "tests:\n  - name: quick\n    run: 'true'\n  - name: slow\n    run: [sleep, '30']\n",
    )
    result = assay.run(settings=recorded.settings(), timeout=0.3, jobs=1)
    assert result.interrupted is not None and result.run_id is not None
    run = queries.get_run(recorded.store(), result.run_id)
    assert run.status == "interrupted"
    assert run.reason == result.interrupted


@pytest.mark.parametrize(
    ("config", "environ"),
    [
        ('data_dir = "state"\nproject = "alpha"\n', {}),
        ("", {"ASSAY_DATA_DIR": "state", "ASSAY_PROJECT": "alpha"}),
    ],
    ids=["assay.toml", "environment"],
)
def test_data_dir_and_project_settings(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
    environ: dict[str, str],
) -> None:
    project.write("assay.toml", config)
    project.write("big.assay.yaml", "tests:\n  - name: big\n    run: seq 1 5000\n")
    isolate(monkeypatch, project.root)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = assay.run()
    assert result.run_id is not None
    state = project.root / "state"
    assert (state / "assay.db").is_file()
    assert not (project.root / ".assay").exists()
    with opened_store(f"sqlite:///{state / 'assay.db'}", state, project="alpha") as store:
        (run,) = queries.list_runs(store)
        assert run.project == "alpha"
        (stored,) = queries.results(store, run.id, with_attempts=True)
        digest = stored.attempts[0].stdout_artifact
        assert digest is not None
        assert (state / "artifacts" / digest[:2] / digest).is_file()
