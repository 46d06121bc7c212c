"""Work directories: kept ones stay with their logs; whatever a test does to its own, nothing
outside the run directory is touched."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from assay.model import Outcome

if TYPE_CHECKING:
    from conftest import Runs


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_kept_attempts_have_their_own_directory_and_logs(runs: Runs) -> None:
    test = runs.one(
        """
        tests:
          - name: leaves things
            run: echo out; echo err >&2; echo made > made.txt
        """
    )
    first, second = runs.attempts(test, 2, keep=True)
    for number, attempt in ((1, first), (2, second)):
        assert attempt.outcome is Outcome.PASSED
        assert attempt.workdir == str(runs.runs / "run-1" / f"attempt-{number}")
        assert (Path(attempt.workdir) / "made.txt").read_text() == "made\n"
        assert attempt.stdout is not None
        assert attempt.stderr is not None
        assert attempt.stdout.path == f"{attempt.workdir}.stdout"
        assert Path(attempt.stdout.path).read_text() == "out\n"
        assert attempt.stderr.path is not None
        assert Path(attempt.stderr.path).read_text() == "err\n"


def test_a_removed_work_directory_is_not_an_error(runs: Runs) -> None:
    test = runs.one(
        """
        tests:
          - name: removes its own directory
            run: d=$PWD; cd ..; rm -rf "$d"
        """
    )
    attempts = runs.attempts(test, 2)
    assert [a.outcome for a in attempts] == [Outcome.PASSED, Outcome.PASSED]


def test_read_only_leftovers_are_removed(runs: Runs) -> None:
    test = runs.one(
        """
        tests:
          - name: read-only tree
            run: mkdir -p a/b && touch a/b/c && chmod 0 a/b && chmod 500 a
        """
    )
    [attempt] = runs.attempts(test)
    assert attempt.outcome is Outcome.PASSED
    assert [p for p in runs.runs.glob("*/*") if p.is_dir() and any(p.iterdir())] == []


def test_a_work_directory_replaced_by_a_symlink_leaves_the_target_alone(
    runs: Runs, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    outside.chmod(0o755)
    (outside / "sub").chmod(0o755)
    test = runs.one(
        f"""
        tests:
          - name: swaps its directory
            run: d=$PWD; cd ..; rm -rf "$d"; ln -s {outside} "$d"
        """
    )
    [attempt] = runs.attempts(test)
    assert attempt.outcome is Outcome.PASSED
    assert (outside / "sub").is_dir()
    assert (mode(outside), mode(outside / "sub")) == (0o755, 0o755)
