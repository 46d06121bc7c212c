"""Reports: event handlers for a live run (console, JUnit XML, JSON), the HTML and Markdown
reports of a stored run (`html`, `markdown`, built from `document`), and readers of other
tools' results (`importers`).

Only the live-run handlers are imported here; the others load SQLAlchemy through the
store, which `assay run` must not pay for.
"""

from __future__ import annotations

from assay.reports.console import ConsoleReporter
from assay.reports.files import write_reports
from assay.reports.json_report import SCHEMA, SCHEMA_FILE, JsonWriter, run_document, write_json
from assay.reports.junit import JUnitWriter, junit_tree, write_junit

__all__ = [
    "SCHEMA",
    "SCHEMA_FILE",
    "ConsoleReporter",
    "JUnitWriter",
    "JsonWriter",
    "junit_tree",
    "run_document",
    "write_json",
    "write_junit",
    "write_reports",
]
