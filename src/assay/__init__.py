"""Assay: declarative tests for command-line programs, run fast and contained.

The public facade. Heavy modules load on first use, so `import assay` (and the
`assay` command) start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AssayError",
    "Attempt",
    "CommandTest",
    "Failure",
    "Outcome",
    "Result",
    "RunResult",
    "Settings",
    "SpecError",
    "__version__",
    "collect",
    "load_settings",
    "run",
]

if TYPE_CHECKING:
    from assay.api import collect, run
    from assay.config import Settings, load_settings
    from assay.errors import AssayError, SpecError
    from assay.model import Attempt, CommandTest, Failure, Outcome, Result, RunResult

_LAZY = {
    "collect": "assay.api",
    "run": "assay.api",
    "Settings": "assay.config",
    "load_settings": "assay.config",
    "AssayError": "assay.errors",
    "SpecError": "assay.errors",
    "Attempt": "assay.model",
    "CommandTest": "assay.model",
    "Failure": "assay.model",
    "Outcome": "assay.model",
    "Result": "assay.model",
    "RunResult": "assay.model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'assay' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
