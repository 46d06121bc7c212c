"""Spawning and containing test processes.

`Sandbox` is the seam. `Sandboxes` is the one the engine uses: it starts
each request in the sandbox its isolation names, the `ProcessSandbox`
(the default), a `BwrapSandbox` or a `ContainerSandbox`.
"""

from __future__ import annotations

from assay.sandbox.bwrap import BwrapSandbox
from assay.sandbox.container import ContainerSandbox
from assay.sandbox.process import ProcessSandbox
from assay.sandbox.protocol import (
    Cancellation,
    Execution,
    ProcessOutcome,
    ProcessRequest,
    Sandbox,
    run_to_end,
    wait,
)
from assay.sandbox.router import Sandboxes

__all__ = [
    "BwrapSandbox",
    "Cancellation",
    "ContainerSandbox",
    "Execution",
    "ProcessOutcome",
    "ProcessRequest",
    "ProcessSandbox",
    "Sandbox",
    "Sandboxes",
    "run_to_end",
    "wait",
]
