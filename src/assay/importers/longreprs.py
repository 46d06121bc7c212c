"""pytest's serialised reports: failures (`longrepr`), skips and captured sections, as text.

A report log keeps a failure as pytest's `longrepr` turned into JSON: a
string, a `(path, line, message)` skip, or a traceback as nested objects. This
module prints those back roughly as pytest's terminal would, bounded.
"""

from __future__ import annotations

import re

from assay.importers.texts import BoundedText, bounded
from assay.model import Failure, Output

_EXCEPTION = re.compile(r"([A-Za-z_][\w.]*)(?::|$)")


def failure(when: str, longrepr: object) -> Failure:
    """The failure a phase (`setup`, `call`, `teardown`, `collect`) reports.

    A failing call names the exception it raised; a failing setup or teardown
    names the phase, which says more about the test than its exception does.
    """
    if isinstance(longrepr, dict):
        actual = _render(longrepr)
        message = _field(longrepr.get("reprcrash"), "message") or _first_line(actual)
    elif isinstance(longrepr, str):
        message, actual = _first_line(longrepr), longrepr
    elif isinstance(longrepr, list) and longrepr and isinstance(longrepr[-1], str):
        message, actual = longrepr[-1], ""
    else:
        message, actual = f"{when} failed", ""
    return Failure(
        _expectation(when, message), bounded(message), actual=bounded(actual) if actual else None
    )


def _expectation(when: str, message: str) -> str:
    if when != "call":
        return when
    if found := _EXCEPTION.match(message):
        return found[1]
    # A bare `assert` that failed: pytest's message is the rewritten assertion alone.
    return "AssertionError" if message.startswith("assert ") else when


def skip_reason(report: dict[str, object]) -> str | None:
    """The reason of a skip: pytest keeps `(path, line, "Skipped: reason")`."""
    longrepr = report.get("longrepr")
    if isinstance(longrepr, list) and longrepr and isinstance(longrepr[-1], str):
        return longrepr[-1].removeprefix("Skipped: ")
    if isinstance(longrepr, str):
        return _first_line(longrepr) or None
    return None


def sections(value: object) -> tuple[Output | None, Output | None, tuple[str, ...]]:
    """Captured stdout, stderr, and any other section (logs) as notes."""
    stdout, stderr, notes = BoundedText(), BoundedText(), []
    for section in value if isinstance(value, list) else ():
        if not (isinstance(section, list) and len(section) == 2):
            continue
        title, text = section
        if not (isinstance(title, str) and isinstance(text, str)):
            continue
        if title.startswith("Captured stdout"):
            stdout.add(text)
        elif title.startswith("Captured stderr"):
            stderr.add(text)
        else:
            notes.append(f"{title}\n{bounded(text)}")
    return (
        None if stdout.empty else stdout.output(),
        None if stderr.empty else stderr.output(),
        tuple(notes),
    )


def _render(longrepr: dict[str, object]) -> str:
    """A traceback, with its chained exceptions, as pytest prints it."""
    chain = longrepr.get("chain")
    if not isinstance(chain, list) or not chain:
        return _traceback(longrepr.get("reprtraceback"))
    parts: list[str] = []
    for link in chain:
        if isinstance(link, list) and len(link) == 3:
            parts.append(_traceback(link[0]))
            if isinstance(link[2], str):
                parts.append(link[2])
    return "\n\n".join(part for part in parts if part)


def _traceback(traceback: object) -> str:
    if not isinstance(traceback, dict):
        return ""
    entries = traceback.get("reprentries")
    blocks = (
        [_entry(entry) for entry in entries if isinstance(entry, dict)]
        if isinstance(entries, list)
        else []
    )
    extra = traceback.get("extraline")
    if isinstance(extra, str):
        blocks.append(extra)
    return "\n\n".join(block for block in blocks if block)


def _entry(entry: dict[str, object]) -> str:
    data = entry.get("data")
    if not isinstance(data, dict):
        return ""
    lines = _strings(data.get("lines"))
    reprlocals = data.get("reprlocals")
    if isinstance(reprlocals, dict):
        lines += ["", *_strings(reprlocals.get("lines"))]
    location = data.get("reprfileloc")
    if isinstance(location, dict):
        lines += ["", f"{location.get('path')}:{location.get('lineno')}: {location.get('message')}"]
    return "\n".join(lines)


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _field(value: object, key: str) -> str | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
