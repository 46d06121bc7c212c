"""Finding suite files: `**/*.assay.yaml` under the given paths."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from assay.errors import UsageError

SUFFIXES = (".assay.yaml", ".assay.yml")
_SKIP_DIRS = {"__snapshots__", "node_modules", "__pycache__", ".git", ".venv", "venv"}


def discover(
    paths: Sequence[Path], exclude: Iterable[Path] = (), cwd: Path | None = None
) -> list[Path]:
    """Suite files under `paths`, sorted, each once.

    A file named on the command line is taken whatever its name. Directories
    are searched recursively, skipping hidden and tool directories and any
    `exclude` directory, unless that directory was named itself.
    """
    cwd = cwd or Path.cwd()
    excluded = [(cwd / e).resolve() for e in exclude]
    found: dict[Path, None] = {}
    for given in paths:
        path = (cwd / given).resolve()
        if path.is_file():
            found[path] = None
        elif path.is_dir():
            skip = [e for e in excluded if not _within(path, e)]
            for file in _walk(path, skip):
                found[file] = None
        else:
            raise UsageError(f"file or directory not found: {given}")
    return list(found)


def _walk(top: Path, excluded: list[Path]) -> list[Path]:
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d not in _SKIP_DIRS and (here / d) not in excluded
        )
        files.extend(here / f for f in sorted(filenames) if f.endswith(SUFFIXES))
    return files


def _within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def display_path(path: Path, cwd: Path | None = None) -> Path:
    """`path` relative to `cwd` when it lies inside it, for ids and messages."""
    cwd = (cwd or Path.cwd()).resolve()
    try:
        return path.relative_to(cwd)
    except ValueError:
        return path
