"""The bundled examples, run through the real CLI from the repository root.

`assay run` there uses `[tool.assay]` in `pyproject.toml`: every suite under
`examples/` except `examples/failing/`, and all of those must pass (or be
skipped on purpose). `examples/failing/` must fail, and every suite file in it
must show at least one result that did not pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from fixtures.projects import require_program, run_assay
from fixtures.server import LiveServer

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
FAILING = EXAMPLES / "failing"
SANDBOXES = EXAMPLES / "sandboxes"  # left out of `assay run`: they need bwrap and Podman
BAD_OUTCOMES = {"failed", "error", "timeout"}


def suite_files(directory: Path) -> list[Path]:
    """The suite files under `directory`, as `assay run` would find them."""
    found = [*directory.rglob("*.assay.yaml"), *directory.rglob("*.assay.yml")]
    return sorted(p for p in found if "__snapshots__" not in p.parts)


def run_examples(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """Run `assay run ARGS --json` in the repository root; the exit code, report and output."""
    report = tmp_path / "report.json"
    env = {"TMPDIR": str(tmp_path), "ASSAY_DATA_DIR": str(tmp_path / "data")}
    result = run_assay(("run", *args, "--json", str(report)), ROOT, env)
    assert report.is_file(), result
    document: dict[str, Any] = json.loads(report.read_text())
    return result.code, document, str(result)


@pytest.mark.slow
def test_examples_pass(tmp_path: Path) -> None:
    passing = [
        p for p in suite_files(EXAMPLES) if FAILING not in p.parents and SANDBOXES not in p.parents
    ]
    if not passing:
        pytest.skip("no examples yet: examples/ holds no suite outside examples/failing/")
    require_program("git")

    code, document, output = run_examples(tmp_path)

    bad = [(r["id"], r["outcome"]) for r in document["results"] if r["outcome"] in BAD_OUTCOMES]
    assert bad == [], output
    assert code == 0, output
    assert document["counts"]["passed"] > 0
    # A `pytest:` test's results are its pytest tests, which name their own files.
    files = {r["file"] for r in document["results"] if r["kind"] != "pytest"}
    pytest_files = {r["file"] for r in document["results"] if r["kind"] == "pytest"}
    assert files | {"examples/pytest.assay.yaml"} == {
        p.relative_to(ROOT).as_posix() for p in passing
    }
    assert pytest_files and all(f.startswith("examples/pytest/") for f in pytest_files)
    assert (tmp_path / "data" / "assay.db").is_file(), "the run was not recorded"


@pytest.mark.slow
def test_sandbox_examples_pass(tmp_path: Path, engine_url: str) -> None:
    require_program("bwrap")
    code, document, output = run_examples(tmp_path, "examples/sandboxes")
    bad = [(r["id"], r["outcome"]) for r in document["results"] if r["outcome"] in BAD_OUTCOMES]
    assert bad == [], output
    assert code == 0, output
    files = {r["file"] for r in document["results"]}
    assert files == {p.relative_to(ROOT).as_posix() for p in suite_files(SANDBOXES)}


@pytest.mark.slow
def test_failing_examples_fail(tmp_path: Path) -> None:
    failing = suite_files(FAILING)
    if not failing:
        pytest.skip("no examples yet: examples/failing/ holds no suite")

    code, document, output = run_examples(tmp_path, "examples/failing")

    assert code == 1, output
    by_file: defaultdict[str, list[str]] = defaultdict(list)
    for result in document["results"]:
        by_file[result["file"]].append(result["outcome"])
    for path in failing:
        name = path.relative_to(ROOT).as_posix()
        outcomes = by_file.get(name, [])
        assert any(o != "passed" for o in outcomes), f"{name}: {outcomes}\n{output}"


HISTORY = EXAMPLES / "history"


@pytest.mark.parametrize(
    ("fmt", "name", "counts"),
    [
        ("reportlog", "pytest-reportlog.jsonl", {"passed": 4, "failed": 1, "skipped": 1}),
        ("junit", "pytest-junit.xml", {"passed": 4, "failed": 1, "skipped": 1}),
        (
            "junit",
            "surefire-TEST-CartTest.xml",
            {"passed": 3, "failed": 1, "error": 1, "skipped": 1},
        ),
    ],
    ids=["pytest-reportlog", "pytest-junit", "surefire"],
)
def test_history_examples_import_and_report(
    tmp_path: Path, fmt: str, name: str, counts: dict[str, int]
) -> None:
    env = {"ASSAY_DATABASE_URL": f"sqlite:///{tmp_path}/history.db"}

    imported = run_assay(("import", fmt, str(HISTORY / name), "--json"), tmp_path, env)
    assert imported.code == 0, imported
    assert json.loads(imported.stdout)["by_outcome"] == counts
    assert json.loads(imported.stdout)["unknown_elements"] == {}

    flaky = run_assay(("flaky", "--json"), tmp_path, env)
    assert flaky.code == 0, flaky
    assert len(json.loads(flaky.stdout)) >= 1  # every example has a test that passed on a rerun

    markdown = run_assay(("report", "markdown", "last"), tmp_path, env)
    assert markdown.code == 0, markdown
    assert "failed" in markdown.stdout.lower()

    html = run_assay(("report", "html", "last", "-o", str(tmp_path / "r.html")), tmp_path, env)
    assert html.code == 0, html
    assert "<html" in (tmp_path / "r.html").read_text()


def test_the_server_client_example_starts_and_follows_a_run(sqlite_server: LiveServer) -> None:
    sqlite_server.write_suite("grep.assay.yaml", (EXAMPLES / "grep.assay.yaml").read_text())
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "server" / "follow_run.py"),
            sqlite_server.url,
            "suites/grep.assay.yaml",
            "--token",
            sqlite_server.token("run"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("queued") and lines[1].startswith("run started: ")
    assert any(line.startswith("PASSED  suites/grep.assay.yaml::") for line in lines)
    assert lines[-1].endswith(" passed")


def test_the_server_client_example_reports_a_refused_run(sqlite_server: LiveServer) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "server" / "follow_run.py"), sqlite_server.url, "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "cannot start the run: a valid token is needed"
