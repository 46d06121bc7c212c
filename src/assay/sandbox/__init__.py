"""Spawning and containing test processes.

`Sandbox` is the seam. `Sandboxes` is the one the engine uses: it starts
each request in the sandbox its isolation names, the `ProcessSandbox`
(the default), a `BwrapSandbox` or a `ContainerSandbox`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from assay.sandbox.bwrap import BwrapSandbox
    from assay.sandbox.container import ContainerSandbox

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


def __getattr__(name: str) -> Any:
    # Imported on first use: most runs use neither, and they cost a start-up.
    if name == "BwrapSandbox":
        from assay.sandbox.bwrap import BwrapSandbox

        return BwrapSandbox
    if name == "ContainerSandbox":
        from assay.sandbox.container import ContainerSandbox

        return ContainerSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
