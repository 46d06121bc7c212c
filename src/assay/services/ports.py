"""Free TCP ports for services, never the same one twice in this process.

A port is found by binding port 0 and reading what the kernel chose; the
socket is closed before the service starts, so the service can bind it.
The kernel may hand the same port out again once it is closed, which would
give two running services one port: ports already given out are remembered
and asked for again.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_ATTEMPTS = 64
_REMEMBERED = 8192  # enough for any run; beyond it the oldest may be handed out again
_given: dict[int, None] = {}  # insertion-ordered: the oldest first
_lock = threading.Lock()


def allocate(host: str, names: tuple[str, ...]) -> dict[str, int]:
    """A free port on `host` for each of `names`, all different."""
    family = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0][0]
    ports: dict[str, int] = {}
    with contextlib.ExitStack() as held, _lock:
        # The sockets stay bound until every name has a port, so none repeats within a call.
        for name in names:
            ports[name] = _fresh(host, family, held)
        for port in ports.values():
            _given[port] = None
        while len(_given) > _REMEMBERED:
            del _given[next(iter(_given))]
    return ports


def _fresh(host: str, family: socket.AddressFamily, held: contextlib.ExitStack) -> int:
    """A port not given out before, bound (and held) by a socket in `held`."""
    for _ in range(_ATTEMPTS):
        sock = held.enter_context(socket.socket(family, socket.SOCK_STREAM))
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        if port not in _given:
            return port
    return port  # every try was a port given out before: the kernel knows it is free
