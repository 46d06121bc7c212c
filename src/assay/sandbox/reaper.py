"""Finding and killing processes that escaped their test's process group.

A child that calls `setsid` leaves the group that a timeout kills. Assay
makes itself a child subreaper, so such orphans are re-parented to Assay
instead of to init, and every sandboxed process carries an environment
cookie naming its attempt. After an attempt ends, any child of Assay that
carries that attempt's cookie is a stray, and is killed and reaped.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

COOKIE = "ASSAY_SANDBOX_ID"
_PR_SET_CHILD_SUBREAPER = 36
_subreaper: bool | None = None


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux); True on success."""
    global _subreaper
    if _subreaper is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _subreaper = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _subreaper = False
    return _subreaper


def orphans() -> list[int]:
    """Children re-parented to this process.

    The kernel gives an orphan to the subreaper's first live thread, the main
    thread, while processes Assay starts are children of the worker thread
    that started them; so only the main thread's children need a look.
    """
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _has_cookie(pid: int, cookie: bytes, prefix: bool = False) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            variables = f.read().split(b"\0")
    except OSError:
        return False
    if prefix:
        return any(v.startswith(cookie) for v in variables)
    return cookie in variables


def _candidates() -> list[int]:
    if _subreaper:
        return orphans()
    # Without a subreaper, orphans go to init: look at every process instead.
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def sweep(
    attempt_id: str,
    skip: set[int] | frozenset[int] = frozenset(),
    *,
    prefix: bool = False,
    rounds: int = 50,
) -> int:
    """Kill and reap every process carrying `attempt_id`'s cookie; returns how many.

    `skip` holds pids known to be running tests, which need no look. With
    `prefix`, any cookie starting with `attempt_id` matches (a whole run).
    """
    cookie = f"{COOKIE}={attempt_id}".encode()
    me = os.getpid()
    killed = 0
    for _ in range(rounds):
        strays = [
            pid
            for pid in _candidates()
            if pid != me and pid not in skip and _has_cookie(pid, cookie, prefix)
        ]
        if not strays:
            break
        for pid in strays:
            kill_tree(pid)
            killed += 1
    return killed


def kill_tree(pid: int) -> None:
    """SIGKILL a stray and its process group, then reap it if it is our child."""
    with contextlib.suppress(OSError):
        pgid = os.getpgid(pid)
        if pgid == pid:
            os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


def proc_available() -> bool:
    """Whether /proc can be read (it is needed to find strays)."""
    return Path("/proc/self/task").is_dir()
