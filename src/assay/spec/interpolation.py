"""`${{ ... }}` interpolation of vars, env and suite facts into test-file strings.

The `${{` opener cannot appear in POSIX shell syntax, so `$HOME`, `${X}` and
`$(cmd)` pass through untouched. `$${{` writes a literal `${{`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from assay.spec.suggestions import did_you_mean

_EXPR = re.compile(r"\$?\$\{\{\s*(.*?)\s*\}\}")
_REF = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_.-]*)")


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A reference that could not be resolved, at an offset into the string."""

    offset: int
    message: str


class Scope:
    """The namespaces visible to `${{ }}` (`vars`, `env`, `suite`, `services`), and bare words.

    `words` are names used without a namespace, such as a service's own
    `${{ port }}` and `${{ ports.admin }}` (a word may contain dots).
    """

    def __init__(
        self,
        namespaces: Mapping[str, Mapping[str, str]],
        words: Mapping[str, str] | None = None,
    ) -> None:
        self._namespaces = namespaces
        self._words = words or {}

    def lookup(self, expression: str) -> str:
        """The value of `namespace.name`; raises `KeyError` with a message for the user."""
        if expression in self._words:
            return self._words[expression]
        match = _REF.fullmatch(expression)
        if not match:
            raise KeyError(
                f"invalid expression '${{{{ {expression} }}}}': "
                f"expected one of {self._names()} followed by .name"
            )
        namespace, name = match.groups()
        values = self._namespaces.get(namespace)
        if values is None:
            raise KeyError(
                f"unknown namespace '{namespace}' in '${{{{ {expression} }}}}': "
                f"expected one of {self._names()}"
            )
        if name not in values:
            raise KeyError(self._missing(namespace, name, values))
        return values[name]

    def _names(self) -> str:
        names = ", ".join(sorted(self._namespaces))
        if self._words:
            names += " (or " + ", ".join(sorted(self._words)) + ")"
        return names

    @staticmethod
    def _missing(namespace: str, name: str, values: Mapping[str, str]) -> str:
        if namespace == "env":
            return f"environment variable '{name}' is not set"
        return f"unknown variable '{namespace}.{name}'{did_you_mean(name, values)}"


def interpolate(text: str, scope: Scope) -> tuple[str, list[Unresolved]]:
    """`text` with every `${{ ... }}` replaced, and the references that failed."""
    if "${{" not in text:
        return text, []
    problems: list[Unresolved] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0).startswith("$$"):
            return match.group(0)[1:]
        try:
            return scope.lookup(match.group(1))
        except KeyError as error:
            problems.append(Unresolved(match.start(), str(error.args[0])))
            return match.group(0)

    return _EXPR.sub(replace, text), problems
