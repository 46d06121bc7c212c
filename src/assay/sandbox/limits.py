"""Resource limits (rlimits) for a test's process.

`preexec_fn` is unsafe in a process with threads, and Assay runs tests from
a thread pool. Instead, a limited command is started through a tiny Python
shim that sets the limits on itself and then `exec`s the real program, so
the limits hold from the program's first instruction and for its children.
"""

from __future__ import annotations

import sys

from assay.model import Limits

_SHIM = (
    "import os,resource as r,sys\n"
    "for name,value in zip(('CPU','AS','NOFILE','CORE'),sys.argv[1:5]):\n"
    " if value!='-':v=int(value);r.setrlimit(getattr(r,'RLIMIT_'+name),(v,v))\n"
    "try:os.execvp(sys.argv[5],sys.argv[5:])\n"
    "except OSError as e:sys.stderr.write(f'{sys.argv[5]}: {e.strerror}\\n');sys.exit(127)\n"
)


def limited_argv(argv: tuple[str, ...], limits: Limits) -> tuple[str, ...]:
    """`argv` wrapped so that it runs under `limits`; unchanged when there are none."""
    if not limits.any():
        return argv
    values = (limits.cpu_seconds, limits.memory_bytes, limits.open_files, limits.core_bytes)
    encoded = tuple("-" if v is None else str(v) for v in values)
    return (sys.executable, "-S", "-E", "-c", _SHIM, *encoded, *argv)
