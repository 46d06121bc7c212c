"""Golden files beside the suite, in `__snapshots__/<suite>/`.

A snapshot is compared byte for byte with the full output on disk, so it
works for outputs too large to hold in memory. `--update-snapshots` writes
the actual output instead of failing.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from assay.checks.diffs import preview, unified_diff
from assay.checks.outputs import file_equals, files_equal, read_output
from assay.model import Failure, Output

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(name: str) -> str:
    """A file-name-safe form of a test name: `finds a line` -> `finds-a-line`."""
    return _UNSAFE.sub("-", name).strip("-.") or "test"


@dataclass(frozen=True, slots=True)
class SnapshotTarget:
    """Where one stream's snapshot lives, and whether to rewrite it."""

    directory: Path
    default_name: str
    update: bool = False

    def path(self, name: str) -> Path:
        """The snapshot file for an explicit name, or the default one."""
        return self.directory / (name or self.default_name)


def check_snapshot(
    target: SnapshotTarget, name: str, output: Output, text: str, subject: str
) -> tuple[Failure | None, str | None]:
    """Compare `output` with its snapshot; returns a failure or a note of what was written."""
    path = target.path(name)
    same = path.is_file() and _same(path, output, text)
    if same:
        return None, None
    if target.update:
        _write(path, output, text)
        return None, f"snapshot written: {path}"
    if not path.is_file():
        return (
            Failure(
                f"{subject}.snapshot",
                f"snapshot {path} does not exist; run with --update-snapshots to create it",
                actual=preview(text),
            ),
            None,
        )
    expected = read_output(path).text
    return (
        Failure(
            f"{subject}.snapshot",
            f"{subject} does not match snapshot {path}",
            diff=unified_diff(expected, text, labels=(str(path), f"actual {subject}")),
        ),
        None,
    )


def _same(path: Path, output: Output, text: str) -> bool:
    if output.truncated and output.path:
        return files_equal(path, output.path)
    return file_equals(path, text.encode())


def _write(path: Path, output: Output, text: str) -> None:
    import tempfile  # only --update-snapshots writes

    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            if output.truncated and output.path:
                with open(output.path, "rb") as src:
                    shutil.copyfileobj(src, f)
            else:
                f.write(text.encode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
