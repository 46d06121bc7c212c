"""The reaper's view of this process's children, read again for every sweep."""

from __future__ import annotations

import os
import subprocess

from assay.sandbox import reaper


def test_children_are_listed_as_they_are_now() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert child.pid in reaper.orphans()
    finally:
        child.kill()
        child.wait()
    assert child.pid not in reaper.orphans()


def test_a_forked_process_lists_its_own_children() -> None:
    reaper.orphans()  # the parent's list is open before the fork
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code only
        code = 1
        try:
            child = subprocess.Popen(["sleep", "30"])
            code = 0 if reaper.orphans() == [child.pid] else 2
            child.kill()
            child.wait()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
