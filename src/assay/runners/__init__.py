"""One module per test kind; each turns one test into attempts and a result."""

from __future__ import annotations

from assay.runners.command import DEADLINE, CommandRunner, RunnerConfig, Started, environment
from assay.runners.workspace import Workspace, Workspaces

__all__ = [
    "DEADLINE",
    "CommandRunner",
    "RunnerConfig",
    "Started",
    "Workspace",
    "Workspaces",
    "environment",
]
