"""`assay runs | show | compare | flaky | slowest | failures | history`, and selection from history.

The history these commands read is real: a suite run three times through
`assay.run`, with a test that reads a file in the project whose content is
flipped between runs (on, off, on). Commands run in this process through the
real `main` (see `HistoryProject.cli`); the database is SQLite, and
PostgreSQL too when `ASSAY_TEST_POSTGRES_URL` is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import assay
from fixtures.databases import BACKENDS, HistoryProject, history_project, scalar
from fixtures.projects import run_assay

DEMO = """\
suite: demo
tests:
  - name: greets
    run: echo hello
    expect: {stdout: "hello\\n"}
  - name: counts words
    run: wc -w
    stdin: "one two three\\n"
    expect: {stdout: {matches: '^\\s*3$'}}
  - name: reads the switch
    run: [cat, "@ROOT@/switch.txt"]
    expect: {stdout: "on"}
  - name: after the switch
    needs: [reads the switch]
    run: "true"
  - name: passes on retry
    retries: 1
    run: |
      n=$(cat '@ROOT@/counter' 2>/dev/null || echo 0)
      echo $((n + 1)) > '@ROOT@/counter'
      test $((n % 2)) -eq 1
  - name: prints a lot
    run: seq 1 3000
  - name: exits 3
    run: exit 3
  - name: exits 7
    run: exit 7
  - name: cannot start
    run: [no-such-program-for-assay-tests]
  - name: not today
    skip: waiting for a fix
    run: "true"
"""
NAMES = [
    "greets",
    "counts words",
    "reads the switch",
    "after the switch",
    "passes on retry",
    "prints a lot",
    "exits 3",
    "exits 7",
    "cannot start",
    "not today",
]
FILE = "tests/demo.assay.yaml"
SWITCH = f"{FILE}::reads the switch"
RETRY = f"{FILE}::passes on retry"
RUN_KEYS = {
    "id", "project", "status", "trigger", "source", "host", "branch", "commit", "dirty",
    "started_at", "duration", "total", "passed", "failed", "errors", "timeouts", "skipped",
    "flaky", "reason",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoHistory:
    """The demo project and the ids of its three runs (switch on, off, on)."""

    project: HistoryProject
    runs: tuple[int, int, int]


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def demo_history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoHistory]:
    """Three recorded runs of the demo suite, which the reading tests of this module share."""
    with history_project(request.param, tmp_path_factory.mktemp("demo")) as project:
        project.write(FILE, DEMO.replace("@ROOT@", str(project.root)))
        runs = []
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(project.root)  # test ids are relative to the working directory
            for state in ("on", "off", "on"):
                (project.root / "switch.txt").write_text(state)
                result = assay.run(settings=project.settings())
                assert result.run_id is not None
                runs.append(result.run_id)
        yield DemoHistory(project, (runs[0], runs[1], runs[2]))


@pytest.fixture
def history(
    demo_history: DemoHistory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> DemoHistory:
    """The shared demo history, with its project's `cli` ready to use."""
    demo_history.project.bind(monkeypatch, capsys)
    return demo_history


def _json(history: DemoHistory, *args: str) -> Any:
    done = history.project.cli(*args, "--json")
    assert done.code == 0, done
    assert done.stderr == ""
    return json.loads(done.stdout)


# -- assay runs


def test_runs_lists_the_runs_newest_first(history: DemoHistory) -> None:
    done = history.project.cli("runs")
    assert done.code == 0, done
    header, *lines = done.stdout.splitlines()
    assert header.split() == [
        "id", "started", "trigger", "branch", "commit", "status", "passed", "failed", "skipped",
        "flaky", "duration",
    ]  # fmt: skip
    assert [int(line.split()[0]) for line in lines] == list(reversed(history.runs))
    first, second, third = history.runs
    row = re.compile(
        r"^(\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+api\s+-\s+failed"
        r"\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\.\d\ds$"
    )
    counts = {int(m[1]): tuple(map(int, m.groups()[1:])) for m in map(row.match, lines) if m}
    # passed, failed (with errors), skipped, flaky
    assert counts == {first: (6, 3, 1, 1), second: (4, 4, 2, 1), third: (6, 3, 1, 1)}


def test_runs_json(history: DemoHistory) -> None:
    runs = _json(history, "runs")
    assert [r["id"] for r in runs] == list(reversed(history.runs))
    assert all(set(r) == RUN_KEYS for r in runs)
    middle = runs[1]
    assert (middle["status"], middle["trigger"], middle["project"]) == ("failed", "api", "project")
    assert (middle["total"], middle["passed"], middle["failed"], middle["errors"]) == (10, 4, 3, 1)
    assert (middle["skipped"], middle["flaky"], middle["reason"]) == (2, 1, None)
    assert middle["started_at"].endswith("+00:00")
    assert isinstance(middle["duration"], float)


@pytest.mark.parametrize(
    ("args", "expected"),
    [(("-n", "1"), [2]), (("--status", "passed"), []), (("--branch", "nowhere"), [])],
    ids=["limit", "status", "branch"],
)
def test_runs_filters(history: DemoHistory, args: tuple[str, ...], expected: list[int]) -> None:
    assert [r["id"] for r in _json(history, "runs", *args)] == [history.runs[i] for i in expected]


# -- assay show


def test_show_last_lists_the_failures(history: DemoHistory) -> None:
    done = history.project.cli("show", "last")
    assert done.code == 0, done
    lines = done.stdout.splitlines()
    started = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    assert re.match(
        rf"^run {history.runs[2]}  failed  api  started {started}  \d+\.\d\ds$", lines[0]
    )
    assert lines[1] == "  6 passed, 2 failed, 1 errors, 0 timeouts, 1 skipped, 1 flaky"
    headings = [line for line in lines if line and not line.startswith(" ")][1:]
    assert [h.split("  ")[0] for h in headings] == [
        f"FAILED {FILE}::exits 3",
        f"FAILED {FILE}::exits 7",
        f"ERROR {FILE}::cannot start",
    ]
    assert "  attempt 1: failed, exit 3\n    exit: exit code 3, expected 0\n" in done.stdout


def test_show_all_lists_every_result_with_its_logs(history: DemoHistory) -> None:
    done = history.project.cli("show", "--all", str(history.runs[0]))
    assert done.code == 0, done
    headings = [line for line in done.stdout.splitlines() if line and not line.startswith(" ")]
    assert [re.sub(r"^\S+ (\(flaky\) )?", "", h).split("  ")[0] for h in headings[1:]] == [
        f"{FILE}::{name}" for name in NAMES
    ]
    assert f"PASSED (flaky) {RETRY}  " in done.stdout
    assert "  attempt 1: failed, exit 1\n" in done.stdout
    assert "  attempt 2: passed, exit 0\n" in done.stdout
    (log,) = re.findall(r"^    stdout log: (.+)$", done.stdout, re.M)
    assert Path(log).parent.parent == history.project.artifacts
    assert Path(log).read_text() == "".join(f"{n}\n" for n in range(1, 3001))


def test_show_an_earlier_run(history: DemoHistory) -> None:
    done = history.project.cli("show", "last~1")
    assert done.code == 0, done
    assert done.stdout.startswith(f"run {history.runs[1]}  failed  api  ")
    assert f"FAILED {SWITCH}  " in done.stdout
    assert "    stdout: " in done.stdout


def test_show_json(history: DemoHistory) -> None:
    shown = _json(history, "show", "last~2")
    assert set(shown) == {"run", "results"}
    assert shown["run"]["id"] == history.runs[0]
    results = shown["results"]
    assert [r["position"] for r in results] == list(range(10))
    assert [r["name"] for r in results] == NAMES
    by_name = {r["name"]: r for r in results}
    retry = by_name["passes on retry"]
    assert (retry["outcome"], retry["flaky"]) == ("passed", True)
    assert [(a["number"], a["outcome"]) for a in retry["attempts"]] == [
        (1, "failed"),
        (2, "passed"),
    ]
    assert retry["attempts"][0]["failures"][0]["expectation"] == "exit"
    printed = by_name["prints a lot"]["attempts"][0]
    assert printed["stdout_size"] == len("".join(f"{n}\n" for n in range(1, 3001)))
    assert printed["stdout_tail"].endswith("2999\n3000\n")
    assert printed["stdout_artifact"] is not None
    assert by_name["not today"]["attempts"] == []
    assert by_name["cannot start"]["outcome"] == "error"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("999", "assay: error: no run 999 in project 'project'\n"),
        ("last~9", "assay: error: only 3 runs are recorded\n"),
        ("yesterday", "assay: error: no run 'yesterday': give a run id, 'last' or 'last~N'\n"),
    ],
    ids=["unknown-id", "too-far-back", "word"],
)
def test_show_an_unknown_run_exits_4(history: DemoHistory, ref: str, message: str) -> None:
    done = history.project.cli("show", ref)
    assert (done.code, done.stdout, done.stderr) == (4, "", message)


# -- assay compare


def test_compare_shows_the_new_failure_and_what_still_fails(history: DemoHistory) -> None:
    first, second, _ = history.runs
    done = history.project.cli("compare", str(first), str(second))
    assert done.code == 0, done
    assert done.stdout.startswith(f"run {first} -> run {second}\n")
    assert f"\nnew failures: 1\n  {SWITCH}  passed -> failed\n" in done.stdout
    assert "\nfixed: 0\n" in done.stdout
    assert (
        f"\nstill failing: 3\n  {FILE}::exits 3  failed -> failed\n"
        f"  {FILE}::exits 7  failed -> failed\n  {FILE}::cannot start  error -> error\n"
    ) in done.stdout
    assert "\nnew tests: 0\n" in done.stdout
    assert "\nremoved tests: 0\n" in done.stdout


def test_compare_json_shows_the_fix(history: DemoHistory) -> None:
    # The head defaults to the last run.
    compared = _json(history, "compare", "last~1")
    assert (compared["base"], compared["head"]) == history.runs[1:]
    comparison = compared["comparison"]
    assert set(comparison) == {
        "new_failures", "fixed", "still_failing", "new_tests", "removed_tests", "slowdowns",
    }  # fmt: skip
    (fixed,) = comparison["fixed"]
    assert fixed["test_id"] == SWITCH
    assert (fixed["base"]["outcome"], fixed["head"]["outcome"]) == ("failed", "passed")
    assert comparison["new_failures"] == []
    assert [c["test_id"] for c in comparison["still_failing"]] == [
        f"{FILE}::exits 3",
        f"{FILE}::exits 7",
        f"{FILE}::cannot start",
    ]


def test_compare_with_an_unknown_run_exits_4(history: DemoHistory) -> None:
    done = history.project.cli("compare", "last", "12345")
    assert (done.code, done.stderr) == (4, "assay: error: no run 12345 in project 'project'\n")


# -- assay flaky, slowest, failures, history


def test_flaky_explains_why(history: DemoHistory) -> None:
    done = history.project.cli("flaky")
    assert done.code == 0, done
    score = re.escape(f"{1.0:.2f}")
    assert re.fullmatch(
        rf"{score}  {re.escape(RETRY)}  \(3 runs\)\n"
        rf"      passed on retry in 3 of 3 runs \(last: run {history.runs[2]}\)\n",
        done.stdout,
    ), done


def test_flaky_json_with_fewer_samples_also_flags_flips(history: DemoHistory) -> None:
    found = {t["test_id"]: t for t in _json(history, "flaky", "--min-samples", "3")}
    assert set(found) == {RETRY, SWITCH}
    switch = found[SWITCH]
    assert set(switch) == {"test_id", "score", "reasons", "samples", "last_seen"}
    assert switch["reasons"] == [
        "flipped between pass and fail 2 times in 3 runs (rate 1.00 >= 0.20)"
    ]
    assert (switch["samples"], switch["score"]) == (3, 1.0)


def test_slowest(history: DemoHistory) -> None:
    found = _json(history, "slowest")
    assert {t["test_id"] for t in found} == {f"{FILE}::{name}" for name in NAMES[:-1]}
    by_id = {t["test_id"]: t for t in found}
    assert by_id[f"{FILE}::greets"]["runs"] == 3
    assert by_id[f"{FILE}::after the switch"]["runs"] == 2  # skipped once: not timed
    medians = [t["median_recent"] for t in found]
    assert medians == sorted(medians, reverse=True)
    assert all(len(t["sparkline"]) == t["runs"] for t in found)
    assert all(t["trend"] is None for t in found)  # three runs are all "recent"

    done = history.project.cli("slowest", "-n", "2")
    assert done.code == 0, done
    header, *lines = done.stdout.splitlines()
    assert header.split() == ["test", "last", "median", "before", "trend", "runs", "history"]
    assert [line.split("  ")[0] for line in lines] == [t["test_id"] for t in found[:2]]


def test_failures_are_clustered(history: DemoHistory) -> None:
    clusters = _json(history, "failures")
    by_tests = {tuple(c["tests"]): c for c in clusters}
    exits = by_tests[(f"{FILE}::exits 3", f"{FILE}::exits 7")]
    assert (exits["count"], exits["runs"]) == (6, 3)
    assert exits["example"] in ("exit: exit code 3, expected 0", "exit: exit code 7, expected 0")
    assert by_tests[(SWITCH,)]["count"] == 1
    assert by_tests[(f"{FILE}::cannot start",)]["count"] == 3
    assert sum(c["count"] for c in clusters) == 10

    done = history.project.cli("failures")
    assert done.code == 0, done
    assert f"6 failures, 2 tests, 3 runs: {exits['signature']}\n" in done.stdout
    assert f"      {FILE}::exits 3\n      {FILE}::exits 7\n" in done.stdout


def test_one_tests_history(history: DemoHistory) -> None:
    found = _json(history, "history", SWITCH)
    assert [(s["run_id"], s["outcome"]) for s in found] == [
        (history.runs[0], "passed"),
        (history.runs[1], "failed"),
        (history.runs[2], "passed"),
    ]
    done = history.project.cli("history", SWITCH)
    assert done.code == 0, done
    first, _header, *lines = done.stdout.splitlines()
    assert first.startswith(f"{SWITCH}: 3 results  ")
    assert [line.split()[0] for line in lines] == [str(r) for r in reversed(history.runs)]
    unknown = history.project.cli("history", f"{FILE}::nope")
    assert (unknown.code, unknown.stderr) == (
        4,
        f"assay: error: no test '{FILE}::nope' in project 'project'\n",
    )


def test_db_option_reads_another_database(history: DemoHistory, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "assay.toml").write_text("project = 'project'\n")
    done = run_assay(("runs", "--json", "--db", history.project.url), elsewhere)
    assert done.code == 0, done
    assert [r["id"] for r in json.loads(done.stdout)] == list(reversed(history.runs))


# -- An empty database


@pytest.mark.parametrize(
    ("args", "code", "stdout", "stderr"),
    [
        (("runs",), 0, "no runs recorded yet\n", ""),
        (("runs", "--json"), 0, "[]\n", ""),
        (("show",), 4, "", "assay: error: no runs recorded yet\n"),
        (("flaky",), 0, "no flaky tests in the last 30 runs\n", ""),
        (("failures", "--window", "5"), 0, "no failures in the last 5 runs\n", ""),
        (("slowest", "--json"), 0, "[]\n", ""),
    ],
    ids=["runs", "runs-json", "show", "flaky", "failures", "slowest"],
)
def test_commands_on_an_empty_database(
    fresh: HistoryProject, args: tuple[str, ...], code: int, stdout: str, stderr: str
) -> None:
    done = fresh.cli(*args)
    assert (done.code, done.stdout, done.stderr) == (code, stdout, stderr)


# -- Selection from history: --last-failed, --failed-first, --shard

SELECTION = """\
tests:
  - name: setup
    run: "true"
  - name: uses setup
    needs: [setup]
    run: test ! -e @ROOT@/broken
  - name: alone
    run: "true"
  - name: fails alone
    run: test ! -e @ROOT@/broken
  - name: last
    run: "true"
"""


def _selection(project: HistoryProject, *, broken: bool) -> None:
    project.write("sel.assay.yaml", SELECTION.replace("@ROOT@", str(project.root)))
    marker = project.root / "broken"
    if broken:
        marker.touch()
    else:
        marker.unlink(missing_ok=True)


def _listed(project: HistoryProject, *args: str) -> list[str]:
    done = project.cli("run", "--list", *args)
    assert done.code == (0 if done.stdout else 5), done
    return [line.removeprefix("sel.assay.yaml::") for line in done.stdout.splitlines()]


def _last_run_names(project: HistoryProject) -> list[str]:
    shown = json.loads(project.cli("show", "--json").stdout)
    return [r["name"] for r in shown["results"]]


def test_last_failed_runs_the_failures_and_their_needs(fresh: HistoryProject) -> None:
    _selection(fresh, broken=True)
    assert fresh.cli("run").code == 1
    assert _listed(fresh, "--last-failed") == ["setup", "uses setup", "fails alone"]

    _selection(fresh, broken=False)
    done = fresh.cli("run", "--lf")
    assert done.code == 0, done
    assert _last_run_names(fresh) == ["setup", "uses setup", "fails alone"]
    # Nothing failed last time: everything runs.
    assert _listed(fresh, "--lf") == ["setup", "uses setup", "alone", "fails alone", "last"]


def test_failures_recorded_before_a_partial_run_still_count(fresh: HistoryProject) -> None:
    _selection(fresh, broken=True)
    assert fresh.cli("run").code == 1
    assert fresh.cli("run", "-k", "alone and not fails").code == 0
    assert _listed(fresh, "--lf") == ["setup", "uses setup", "fails alone"]


def test_failed_first_puts_the_failures_first(fresh: HistoryProject) -> None:
    _selection(fresh, broken=True)
    assert fresh.cli("run").code == 1
    assert _listed(fresh, "--failed-first") == [
        "uses setup", "fails alone", "setup", "alone", "last",
    ]  # fmt: skip
    assert fresh.cli("run", "--ff", "-j", "1").code == 1
    assert _last_run_names(fresh) == ["uses setup", "fails alone", "setup", "alone", "last"]


@pytest.mark.parametrize(
    ("total", "recorded_before"),
    [(3, False), (1, True), (2, True), (3, True), (5, True)],
    ids=["3-shards-no-history", "1-shard", "2-shards", "3-shards", "5-shards"],
)
def test_shards_cover_every_test_once(
    fresh: HistoryProject, total: int, recorded_before: bool
) -> None:
    _selection(fresh, broken=False)
    if recorded_before:
        assert fresh.cli("run").code == 0
    everything = _listed(fresh)
    shards = [_listed(fresh, "--shard", f"{k}/{total}") for k in range(1, total + 1)]
    assert sorted(name for shard in shards for name in shard) == sorted(everything)
    for shard in shards:
        assert shard == [name for name in everything if name in shard]  # file order
        assert ("setup" in shard) == ("uses setup" in shard)
    if total <= 4:  # four units to place: the pair tied by `needs` and three single tests
        assert all(shards)


def test_a_shard_run_records_its_shard(fresh: HistoryProject) -> None:
    _selection(fresh, broken=False)
    assert fresh.cli("run", "--shard", "2/2").code == 0
    run = json.loads(fresh.cli("show", "--json").stdout)["run"]
    assert run["total"] == len(_listed(fresh, "--shard", "2/2"))
    options = scalar(fresh.store(), "SELECT options FROM runs WHERE id = :id", id=run["id"])
    assert json.loads(options) == {"shard": "2/2"}


@pytest.mark.parametrize(
    "spec", ["0/2", "3/2", "1-2", "a/b"], ids=["zero", "past-the-end", "dash", "words"]
)
def test_bad_shards_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], spec: str
) -> None:
    with history_project("sqlite", tmp_path) as project:  # the database plays no part
        project.bind(monkeypatch, capsys)
        done = project.cli("run", "--shard", spec)
    assert done.code == 4
    assert "assay: error: argument --shard: " in done.stderr


def test_a_test_has_one_id_wherever_assay_runs(fresh: HistoryProject) -> None:
    _selection(fresh, broken=True)
    assert fresh.cli("run").code == 1
    sub = fresh.root / "sub"
    sub.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sub)
        assert fresh.cli("run", "..").code == 1
    keys = [{r["key"] for r in json.loads(fresh.cli("show", "--json", ref).stdout)["results"]}
            for ref in ("last~1", "last")]  # fmt: skip
    assert keys[0] == keys[1]
