"""Checks on `needs`: every name exists in the suite and there is no cycle."""

from __future__ import annotations

from collections.abc import Sequence

from assay.model import CommandTest
from assay.spec.source import Problems
from assay.spec.suggestions import did_you_mean


def check_needs(tests: Sequence[CommandTest], names: set[str], problems: Problems) -> None:
    """Record unknown `needs` names and dependency cycles among `tests`."""
    for test in tests:
        for need in test.needs:
            if need == test.name:
                _at(problems, test, f"test {test.name!r} needs itself")
            elif need not in names:
                _at(
                    problems,
                    test,
                    f"needs {need!r}: no test of that name in this suite"
                    f"{did_you_mean(need, names)}",
                )
    for cycle in _cycles(tests):
        first = next(t for t in tests if t.name == cycle[0])
        _at(problems, first, "needs form a cycle: " + " -> ".join(repr(n) for n in cycle))


def _at(problems: Problems, test: CommandTest, message: str) -> None:
    problems.at_line(test.location.line, test.location.column, message)


def _cycles(tests: Sequence[CommandTest]) -> list[list[str]]:
    """Each dependency cycle once, as the names along it (first name repeated at the end)."""
    needs = {t.name: [n for n in t.needs if n != t.name] for t in tests}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for need in needs.get(name, ()):
            if state.get(need) == 1:
                cycles.append([*path[path.index(need) :], need])
            elif need not in state and need in needs:
                visit(need, path)
        path.pop()
        state[name] = 2

    for test in tests:
        if test.name not in state:
            visit(test.name, [])
    return cycles
