"""Process groups: signal one, see whether any member is left, reap the members that exited.

Used by the sandboxes for a test's group and by the services for a service's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal


def reap_group(pgid: int) -> None:
    """Reap members of the group that were re-parented to us and have exited."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-pgid, os.WNOHANG)[0] > 0:
            pass


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is left (zombies included)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send `sig` to the group; a group that is gone already is not an error."""
    try:
        os.killpg(pgid, sig)
    except OSError as error:
        if error.errno not in (errno.ESRCH, errno.EPERM):
            raise
