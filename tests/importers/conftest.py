"""Real reports to import, made once per session by running pytest on the sample project."""

from __future__ import annotations

import pytest
from sample_reports import PytestReports, run_pytest


@pytest.fixture(scope="session")
def real_reports(tmp_path_factory: pytest.TempPathFactory) -> PytestReports:
    """JUnit XML in both families (xunit1 with captured output) and a report log."""
    base = tmp_path_factory.mktemp("pytest-reports")
    reports = PytestReports(base / "xunit1.xml", base / "xunit2.xml", base / "report.jsonl")
    run_pytest(
        base / "one",
        "-o",
        "junit_family=xunit1",
        "-o",
        "junit_logging=all",
        f"--junitxml={reports.xunit1}",
        f"--report-log={reports.reportlog}",
    )
    run_pytest(base / "two", "-o", "junit_family=xunit2", f"--junitxml={reports.xunit2}")
    return reports
