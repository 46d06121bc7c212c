"""Expectations on files the command left in its work directory."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assay.checks.matchers import Verdict, check_output
from assay.checks.outputs import read_output
from assay.checks.snapshots import SnapshotTarget, slug
from assay.model import Failure, FileExpectation, MatcherKind


def check_files(
    expectations: tuple[FileExpectation, ...],
    workdir: Path,
    verdict: Verdict,
    snapshots: SnapshotTarget | None = None,
) -> None:
    """Check each expected file: its existence, then its content matchers."""
    for expected in expectations:
        path = workdir / expected.path
        subject = f"file {expected.path}"
        exists = path.is_file()
        content = [m for m in expected.matchers if m.kind is not MatcherKind.EXISTS]
        wanted = next(
            (bool(m.value) for m in expected.matchers if m.kind is MatcherKind.EXISTS), None
        )
        if wanted is not None and wanted != exists:
            state = "was not created" if wanted else "exists but should not"
            verdict.failures.append(Failure(f"{subject}.exists", f"{subject} {state}"))
            continue
        if not content:
            continue
        if not exists:
            verdict.failures.append(Failure(subject, f"{subject} was not created"))
            continue
        target = None
        if snapshots is not None:
            target = replace(
                snapshots, default_name=f"{snapshots.default_name}.{slug(expected.path)}"
            )
        check_output(tuple(content), read_output(path), subject, verdict, snapshots=target)
