"""Matchers, diffs and snapshots: pure checks over captured output and files."""

from __future__ import annotations

from assay.checks.diffs import preview, preview_lines, unified_diff
from assay.checks.files import check_files
from assay.checks.matchers import Verdict, check_output
from assay.checks.outputs import read_fd, read_output, strip_ansi
from assay.checks.snapshots import SnapshotTarget, slug
from assay.checks.status import check_status, signal_name

__all__ = [
    "SnapshotTarget",
    "Verdict",
    "check_files",
    "check_output",
    "check_status",
    "preview",
    "preview_lines",
    "read_fd",
    "read_output",
    "signal_name",
    "slug",
    "strip_ansi",
    "unified_diff",
]
