"""Exit codes, the same as pytest's."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What the `assay` process tells its caller."""

    OK = 0
    TESTS_FAILED = 1
    INTERRUPTED = 2
    INTERNAL_ERROR = 3
    USAGE_ERROR = 4
    NO_TESTS_COLLECTED = 5
