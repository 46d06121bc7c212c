"""Event handlers that report a run: console, JUnit XML and JSON."""

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
