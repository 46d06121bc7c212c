"""Finding and killing processes that escaped their test's process group.

A child that calls `setsid` leaves the group that a timeout kills. Assay
makes itself a child subreaper, so such orphans are re-parented to Assay
instead of to init, and every sandboxed process carries an environment
cookie naming its attempt. After an attempt ends, any child of Assay that
carries that attempt's cookie is a stray, and is killed and reaped; an
orphan that has already exited is reaped, since as its subreaper nobody
else will.
"""

from __future__ import annotations

import contextlib
import enum
import os
import signal
import threading
import time
from pathlib import Path

COOKIE = "ASSAY_SANDBOX_ID"
_PR_SET_CHILD_SUBREAPER = 36
# A process in the middle of `exec` shows an empty environment for a moment, so the
# cookie of a stray caught there cannot be read yet; look again this often, this long.
_EXEC_RECHECK = 0.001
_EXEC_PATIENCE = 0.05
_subreaper: bool | None = None
# Every attempt ends with a sweep, so the main thread's list of children stays open, one
# descriptor for the life of the process, and is read again from the start each time.
_READ_SIZE = 65536
_children: tuple[int, int] | None = None  # (pid, descriptor)
_children_lock = threading.Lock()

# Test leaders that a sandbox of this process started and reaps itself (through Popen).
# Orphans are given to the process, not to a sandbox, so this is process-wide: a sweep
# must leave these alone, and reaping one would take its exit status from its Popen.
leaders: set[int] = set()


class _Kind(enum.Enum):
    STRAY = "stray"  # alive and carrying the cookie
    EXITED = "exited"  # an orphan that exited and waits to be reaped
    UNSURE = "unsure"  # no environment to read yet: caught in the middle of `exec`
    OTHER = "other"


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
    thread, while processes a sandbox starts are children of the thread that
    started them; so only the main thread's children need a look (which
    include the `leaders` when the sandbox runs on the main thread).
    """
    fd = _children_file()
    if fd < 0:
        return []
    try:
        data = os.pread(fd, _READ_SIZE, 0)
        while data and len(data) % _READ_SIZE == 0:  # a full read: there may be more
            more = os.pread(fd, _READ_SIZE, len(data))
            if not more:
                break
            data += more
    except OSError:
        return []
    return [int(p) for p in data.split()]


def _children_file() -> int:
    """The open list of the main thread's children, or -1 without /proc."""
    global _children
    pid = os.getpid()
    with _children_lock:
        if _children is None or _children[0] != pid:
            if _children is not None:  # inherited through a fork: it lists the parent's
                os.close(_children[1])
            try:
                fd = os.open(f"/proc/self/task/{pid}/children", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return -1
            _children = (pid, fd)
        return _children[1]


def _candidates() -> list[int]:
    if _subreaper:
        return orphans()
    # Without a subreaper, orphans go to init: look at every process instead.
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _classify(pid: int, cookie: bytes, prefix: bool) -> _Kind:
    if pid in leaders:
        return _Kind.OTHER
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = f.read()
    except ProcessLookupError:
        environ = b""  # exited: a zombie has no memory left to read
    except OSError:  # gone, or not ours to read
        return _Kind.OTHER
    if environ:
        variables = environ.split(b"\0")
        if prefix:
            return _Kind.STRAY if any(v.startswith(cookie) for v in variables) else _Kind.OTHER
        return _Kind.STRAY if cookie in variables else _Kind.OTHER
    # No environment: the process has exited or is in the middle of `exec`. Only our
    # own children are either to us; without a subreaper, escaped ones are not.
    stat = _stat(pid)
    if stat is None:
        return _Kind.OTHER
    state, parent, session = stat
    if parent != os.getpid():
        return _Kind.OTHER
    if state != "Z":
        return _Kind.UNSURE
    # Tests run in sessions of their own, so an exited child in Assay's own session was
    # started by the program that embeds Assay, which will want its exit status.
    return _Kind.EXITED if session != os.getsid(0) else _Kind.OTHER


def _stat(pid: int) -> tuple[str, int, int] | None:
    """The state, parent and session of `pid`, from `/proc/<pid>/stat`."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name in parentheses may hold spaces; the fields after it do not.
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[3])


def sweep(attempt_id: str, *, prefix: bool = False, rounds: int = 50) -> int:
    """Kill and reap every process carrying `attempt_id`'s cookie; returns how many.

    Escaped orphans that already exited are reaped too, uncounted: they did not
    outlive their test. With `prefix`, any cookie starting with `attempt_id`
    matches (a whole run). `leaders` are left alone.
    """
    cookie = f"{COOKIE}={attempt_id}".encode()
    me = os.getpid()
    patience = time.monotonic() + _EXEC_PATIENCE
    killed = 0
    for _ in range(rounds):
        candidates = [pid for pid in _candidates() if pid != me and pid not in leaders]
        if not candidates:  # the usual case: nothing escaped the test's group
            break
        kinds = {pid: _classify(pid, cookie, prefix) for pid in candidates}
        strays = [pid for pid, kind in kinds.items() if kind is _Kind.STRAY]
        for pid in strays:
            kill_tree(pid)
        for pid, kind in kinds.items():
            if kind is _Kind.EXITED:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
        killed += len(strays)
        if strays:
            continue  # killing them may have orphaned more
        if _Kind.UNSURE not in kinds.values() or time.monotonic() >= patience:
            break
        time.sleep(_EXEC_RECHECK)
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
