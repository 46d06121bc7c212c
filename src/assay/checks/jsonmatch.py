"""Subset matching of JSON values, and evaluation of `json` matcher paths."""

from __future__ import annotations

from assay.model.jsonpath import WILDCARD, parse_path


def select(document: object, path: str) -> object:
    """The value at `path`; a wildcard gives a list. Raises `LookupError` if absent."""
    values = [document]
    spread = False
    for step in parse_path(path):
        if step == WILDCARD:
            spread = True
            values = [item for v in values for item in _children(v, path)]
            continue
        values = [_child(v, step, path) for v in values]
    return values if spread else values[0]


def _children(value: object, path: str) -> list[object]:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    raise LookupError(f"{path}: [*] applied to {_kind(value)}")


def _child(value: object, step: str | int, path: str) -> object:
    if isinstance(step, int):
        if isinstance(value, list) and -len(value) <= step < len(value):
            return value[step]
        raise LookupError(f"{path}: no index {step} in {_kind(value)}")
    if isinstance(value, dict) and step in value:
        return value[step]
    raise LookupError(f"{path}: no key {step!r} in {_kind(value)}")


def _kind(value: object) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return f"the value {value!r}"


def subset_mismatch(expected: object, actual: object, where: str = "$") -> str | None:
    """Where `actual` fails to contain `expected`, or None if it does.

    Objects match when every expected key matches; lists match element by
    element and must have the same length; anything else must be equal.
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"at {where}: expected an object, got {_kind(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return f"at {where}: missing key {key!r}"
            problem = subset_mismatch(value, actual[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"at {where}: expected a list, got {_kind(actual)}"
        if len(expected) != len(actual):
            return f"at {where}: expected {len(expected)} items, got {len(actual)}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            problem = subset_mismatch(e, a, f"{where}[{index}]")
            if problem:
                return problem
        return None
    # Python has True == 1 and False == 0, but JSON's booleans are not numbers, either way round.
    if expected != actual or (type(expected) is bool) != (type(actual) is bool):
        return f"at {where}: expected {expected!r}, got {actual!r}"
    return None
