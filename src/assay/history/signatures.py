"""Failure signatures: the same failure, recognised across tests and runs.

Two failures are the same when their messages differ only in what changes
from run to run: numbers, addresses, ids, temporary paths and clocks.
`signature` replaces those with placeholders (`<n>`, `<hex>`, `<uuid>`,
`<path>`, `<timestamp>`, `<date>`, `<time>`) and keeps the rest as written,
so a signature still reads like the failure it stands for.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

# Longer signatures are cut: past this point a message is a diff or a dump,
# and its head is what tells failures apart.
MAX_SIGNATURE = 200

_PATH_CHAR = r"""[^\s:'"`(),;<>\[\]{}]"""
_PATH_END = r"""[^\s:'"`(),;<>\[\]{}.]"""
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"

# Order matters: paths go first because they contain everything else, and
# numbers go last because everything else contains them.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), placeholder)
    for pattern, placeholder in (
        # Absolute, home and ./ paths (not "and/or", "3/4" or a URL's path), and Windows paths.
        (
            rf"(?<![\w/.:~])(?:~|\.\.?)?/{_PATH_CHAR}*{_PATH_END}"
            rf"|\b[A-Za-z]:\\{_PATH_CHAR}*{_PATH_END}",
            "<path>",
        ),
        (
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            "<uuid>",
        ),
        (
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2}\b)?",
            "<timestamp>",
        ),
        (
            rf"\b\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}\b|\b\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{4}}\b"
            rf"|\b\d{{1,2}} {_MONTH},? \d{{4}}\b|\b{_MONTH} \d{{1,2}},? \d{{4}}\b",
            "<date>",
        ),
        (r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z\b)?", "<time>"),
        (r"\b0[xX][0-9a-fA-F]+\b", "<hex>"),
        # Long hex strings (hashes, ids) mix digits and letters; a plain word such as
        # "deadbeef" or a long number is left to the other rules.
        (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b", "<hex>"),
        # Numbers, with decimals or dotted parts ("1.5s", "10.0.0.1"), but not inside
        # names such as "sha256", "test_2" or "v1.2".
        (r"(?<![\w.])\d+(?:\.\d+)*", "<n>"),
        (r"\s+", " "),
    )
)


def signature(text: str) -> str:
    """`text` with what varies between runs replaced by placeholders, on one line.

    >>> signature("Timeout after 30.5s waiting for /tmp/tmpx81/sock at 0x7f3a2c")
    'Timeout after <n>s waiting for <path> at <hex>'
    """
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    text = text.strip()
    if len(text) > MAX_SIGNATURE:
        text = text[: MAX_SIGNATURE - 1].rstrip() + "…"
    return text


@dataclass(frozen=True, slots=True)
class FailureSample:
    """One failure of one test in one run: its message (or first traceback line)."""

    test_id: str
    run_id: int
    message: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Cluster:
    """Failures sharing a signature: how often, where, and one of them as written.

    `tests` are the distinct test ids, sorted; `runs` is the number of distinct
    runs; `example` is the most recent raw message.
    """

    signature: str
    count: int
    tests: tuple[str, ...]
    runs: int
    example: str
    first_seen: datetime
    last_seen: datetime


def cluster(samples: Iterable[FailureSample]) -> list[Cluster]:
    """Group failures by `signature`, the most frequent first.

    Ties go to the most recently seen cluster, then by signature.
    """
    groups: defaultdict[str, list[FailureSample]] = defaultdict(list)
    for sample in samples:
        groups[signature(sample.message)].append(sample)
    clusters = [_summarise(sig, members) for sig, members in groups.items()]
    clusters.sort(key=lambda c: c.signature)
    clusters.sort(key=lambda c: c.last_seen, reverse=True)
    clusters.sort(key=lambda c: c.count, reverse=True)
    return clusters


def _summarise(sig: str, members: Sequence[FailureSample]) -> Cluster:
    latest = max(members, key=lambda s: (s.at, s.run_id, s.message))
    return Cluster(
        signature=sig,
        count=len(members),
        tests=tuple(sorted({s.test_id for s in members})),
        runs=len({s.run_id for s in members}),
        example=latest.message,
        first_seen=min(s.at for s in members),
        last_seen=latest.at,
    )
