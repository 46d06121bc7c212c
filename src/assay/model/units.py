"""Durations (`1m30s`, `250ms`) and sizes (`512MiB`): parsing what users write, and display."""

from __future__ import annotations

import math
import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_SIZE = re.compile(r"(\d+)\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string such as `1m30s`, `250ms`, `2.5s`.

    Raises `ValueError` with a message fit for the user.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: expected e.g. 5s, 250ms or 1m30s")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_units(value, text)
    else:
        raise ValueError(f"invalid duration {value!r}: expected e.g. 5s, 250ms or 1m30s")
    # NaN fails every comparison, so it would pass a `seconds <= 0` test; infinity is no limit
    # at all and breaks deadline arithmetic. Both come from floats such as `.nan` or `1e999`.
    if not math.isfinite(seconds):
        raise ValueError(f"invalid duration {value!r}: must be a finite number of seconds")
    if seconds <= 0:
        raise ValueError(f"invalid duration {value!r}: must be greater than zero")
    return seconds


def _parse_units(original: str, text: str) -> float:
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(
            f"invalid duration {original!r}: use seconds or the units ms, s, m, h, d, w "
            "(e.g. 5s, 250ms, 1m30s)"
        )
    return total


def parse_size(value: object) -> int:
    """Bytes from an integer or a string such as `512MiB`, `1G`, `64k`."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = _SIZE.fullmatch(value.strip())
        if match:
            unit = (match.group(2) or "b").lower()
            return int(match.group(1)) * _SIZE_UNITS[unit]
    raise ValueError(f"invalid size {value!r}: expected bytes or e.g. 512MiB, 2G, 64k")


def format_duration(seconds: float) -> str:
    """A short human form: `850ms`, `2.50s`, `1m05s`, `2h05m`, `30d`, `1d06h`."""
    # Round to each form's precision before choosing it, so 119.6 is `2m00s` (not `1m60s`),
    # 59.999 is `1m00s` (not `60.00s`) and 0.9999 is `1.00s` (not `1000ms`).
    if round(seconds * 1000) < 1000:
        return f"{seconds * 1000:.0f}ms"
    if round(seconds, 2) < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(round(seconds / 60), 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days}d{hours:02d}h" if hours else f"{days}d"
