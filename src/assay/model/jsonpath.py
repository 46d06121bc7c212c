"""The small JSONPath dialect of `json` matchers: `$.a.b`, `$.items[0]`, `$.items[*].id`."""

from __future__ import annotations

import re

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+|\*)\]|\[['\"]([^'\"]+)['\"]\]")
WILDCARD = "*"
Step = str | int


def parse_path(path: str) -> tuple[Step, ...]:
    """The steps of a path: keys (str), indexes (int) and `*` wildcards.

    Raises `ValueError` for anything outside the dialect.
    """
    if not path.startswith("$"):
        raise ValueError(f"JSONPath must start with '$': {path!r}")
    steps: list[Step] = []
    pos = 1
    while pos < len(path):
        match = _STEP.match(path, pos)
        if not match:
            raise ValueError(f"invalid JSONPath {path!r} at offset {pos}")
        key, index, quoted = match.groups()
        if index is not None:
            steps.append(WILDCARD if index == "*" else int(index))
        else:
            steps.append(key if key is not None else quoted)
        pos = match.end()
    return tuple(steps)
