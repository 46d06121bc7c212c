"""Where a run happened: host, process, and the Git branch and commit it tested.

Branch and commit come from the files under `.git` (cheap, no process);
whether the work tree is dirty needs `git status`, which is run once per run,
off the engine's thread. CI variables fill in what a detached checkout lacks.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

_CI_BRANCH = ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME")
_CI_COMMIT = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT")


@dataclass(frozen=True, slots=True)
class GitInfo:
    """The checkout a run tested."""

    branch: str | None = None
    commit: str | None = None
    dirty: bool | None = None


def git_info(start: Path, *, check_dirty: bool = True) -> GitInfo:
    """Branch, commit and dirtiness of the checkout containing `start`."""
    git_dir = _find_git_dir(start.resolve())
    branch = commit = None
    if git_dir is not None:
        head = _read(git_dir / "HEAD")
        if head and head.startswith("ref: "):
            ref = head[5:]
            branch = ref.removeprefix("refs/heads/")
            commit = _resolve_ref(git_dir, ref)
        elif head:
            commit = head
    branch = branch or _first_env(_CI_BRANCH)
    commit = commit or _first_env(_CI_COMMIT)
    dirty = is_dirty(start) if check_dirty and git_dir is not None else None
    return GitInfo(branch, commit, dirty)


def _find_git_dir(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = _read(candidate) or ""
            if text.startswith("gitdir: "):
                return (directory / text[8:]).resolve()
    return None


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    for base in (git_dir, _common_dir(git_dir)):
        value = _read(base / ref)
        if value:
            return value
        packed = _read(base / "packed-refs") or ""
        for line in packed.splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    return None  # a branch with no commits yet


def _common_dir(git_dir: Path) -> Path:
    common = _read(git_dir / "commondir")
    return (git_dir / common).resolve() if common else git_dir


def is_dirty(start: Path) -> bool | None:
    """Whether tracked files differ from the commit (`git status`); None if git cannot tell."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=start,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return bool(done.stdout.strip()) if done.returncode == 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _first_env(names: tuple[str, ...]) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)
