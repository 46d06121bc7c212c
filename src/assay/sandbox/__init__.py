"""Spawning and containing test processes.

`Sandbox` is the seam; `ProcessSandbox` is the default implementation.
"""

from __future__ import annotations

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

__all__ = [
    "Cancellation",
    "Execution",
    "ProcessOutcome",
    "ProcessRequest",
    "ProcessSandbox",
    "Sandbox",
    "run_to_end",
    "wait",
]
