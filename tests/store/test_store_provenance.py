"""Where a run happened: the Git branch, commit and dirtiness, read from a real checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from assay.store.provenance import GitInfo, git_info
from fixtures.projects import git

CI_VARIABLES = (
    "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME",
    "GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A repository on branch `trunk` with one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "trunk")
    (root / "file.txt").write_text("one\n")
    git(root, "add", "file.txt")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_branch_and_commit_of_a_clean_checkout(checkout: Path) -> None:
    commit = git(checkout, "rev-parse", "HEAD")
    assert git_info(checkout) == GitInfo("trunk", commit, False)
    assert git_info(checkout, check_dirty=False) == GitInfo("trunk", commit, None)


def test_from_a_subdirectory(checkout: Path) -> None:
    sub = checkout / "a" / "b"
    sub.mkdir(parents=True)
    assert git_info(sub).branch == "trunk"


def test_a_changed_tracked_file_makes_it_dirty(checkout: Path) -> None:
    (checkout / "untracked.txt").write_text("not a change to what was tested\n")
    assert git_info(checkout).dirty is False
    (checkout / "file.txt").write_text("two\n")
    assert git_info(checkout).dirty is True


def test_packed_refs(checkout: Path) -> None:
    commit = git(checkout, "rev-parse", "HEAD")
    git(checkout, "pack-refs", "--all")
    assert not (checkout / ".git" / "refs" / "heads" / "trunk").exists()
    assert git_info(checkout, check_dirty=False) == GitInfo("trunk", commit, None)


def test_a_detached_head_has_a_commit_and_no_branch(checkout: Path) -> None:
    commit = git(checkout, "rev-parse", "HEAD")
    git(checkout, "checkout", "-q", "--detach")
    assert git_info(checkout, check_dirty=False) == GitInfo(None, commit, None)


def test_ci_variables_fill_in_a_detached_checkout(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(checkout, "checkout", "-q", "--detach")
    monkeypatch.setenv("GITHUB_REF_NAME", "release")
    assert git_info(checkout, check_dirty=False).branch == "release"


def test_a_worktree(checkout: Path, tmp_path: Path) -> None:
    git(checkout, "worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    commit = git(checkout, "rev-parse", "HEAD")
    assert git_info(tmp_path / "side") == GitInfo("side", commit, False)


def test_a_branch_with_no_commits_yet(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "fresh")
    assert git_info(tmp_path, check_dirty=False) == GitInfo("fresh", None, None)


def test_outside_a_checkout_only_ci_variables_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = subprocess.run(["git", "rev-parse"], cwd=tmp_path, capture_output=True, check=False)
    if inside.returncode == 0:
        pytest.skip("the temporary directory is inside a Git checkout")
    assert git_info(tmp_path) == GitInfo(None, None, None)
    monkeypatch.setenv("CI_COMMIT_SHA", "abc123")
    monkeypatch.setenv("BRANCH_NAME", "main")
    assert git_info(tmp_path) == GitInfo("main", "abc123", None)
