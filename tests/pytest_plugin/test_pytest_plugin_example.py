"""`examples/pytest/`: the bundled pytest project records a passing run, as its README says."""

from __future__ import annotations

import shutil
from pathlib import Path

from pytest_sessions import assay_lines, run_pytest, stored_results, the_run

from fixtures.databases import opened_store

EXAMPLE = Path(__file__).parents[2] / "examples" / "pytest"


def test_the_example_records_a_passing_run(tmp_path: Path) -> None:
    # A copy: recording in place would leave a database in the repository.
    ignored = shutil.ignore_patterns(".assay", "__pycache__", ".pytest_cache")
    project = Path(shutil.copytree(EXAMPLE, tmp_path / "pytest", ignore=ignored))

    done = run_pytest(("--assay",), project)

    assert done.code == 0, done
    database = project / ".assay" / "assay.db"
    assert assay_lines(done) == [f"assay: recorded run 1 (10 results) into sqlite:///{database}"]
    with opened_store(f"sqlite:///{database}", project / ".assay", "pytest-example") as store:
        run = the_run(store)
        results = stored_results(store, run["id"])
    assert (run["status"], run["passed"], run["skipped"]) == ("passed", 7, 3)
    assert results["test_example.py::test_known_bug"]["reason"] == "int() does not read words yet"
    assert results["test_example.py::test_sorts_a_file"]["tries"][0][4] == "sorted: [1, 2, 3]\n"
