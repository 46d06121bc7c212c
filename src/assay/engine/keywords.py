"""`-k` expressions: substrings of test ids combined with `and`, `or`, `not` and parentheses.

Matching is case-insensitive. An expression without operators, parentheses
or quotes is one substring, spaces included, so `-k "finds a line"` works;
quote a substring that contains spaces inside a larger expression.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assay.errors import UsageError

_TOKEN = re.compile(r"\s*(?:(\()|(\))|\"([^\"]*)\"|'([^']*)'|([^\s()\"']+))")
_OPERATORS = {"and", "or", "not"}
Predicate = Callable[[str], bool]


def compile_keyword(expression: str) -> Predicate:
    """A predicate over a test's searchable text; raises `UsageError` for a bad expression."""
    tokens = _tokenize(expression)
    simple = all(kind == "word" and value.lower() not in _OPERATORS for kind, value in tokens)
    if simple:
        needle = expression.strip().lower()
        return lambda text: needle in text.lower()
    parser = _Parser(tokens, expression)
    predicate = parser.expression()
    if parser.pos != len(tokens):
        raise UsageError(f"-k: unexpected {tokens[parser.pos][1]!r} in {expression!r}")
    return predicate


def _tokenize(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expression):
        match = _TOKEN.match(expression, pos)
        if not match or match.end() == pos:
            if expression[pos:].strip():
                raise UsageError(f"-k: unbalanced quote in {expression!r}")
            break
        open_, close, dq, sq, word = match.groups()
        if open_:
            tokens.append(("(", "("))
        elif close:
            tokens.append((")", ")"))
        elif dq is not None or sq is not None:
            tokens.append(("quoted", dq if dq is not None else sq or ""))
        else:
            tokens.append(("word", word))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], source: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.source = source

    def _peek(self) -> str | None:
        if self.pos < len(self.tokens):
            kind, value = self.tokens[self.pos]
            return value.lower() if kind == "word" else kind
        return None

    def expression(self) -> Predicate:
        left = self._and()
        while self._peek() == "or":
            self.pos += 1
            left = _either(left, self._and())
        return left

    def _and(self) -> Predicate:
        left = self._not()
        while self._peek() == "and":
            self.pos += 1
            left = _both(left, self._not())
        return left

    def _not(self) -> Predicate:
        if self._peek() == "not":
            self.pos += 1
            inner = self._not()
            return lambda t: not inner(t)
        return self._atom()

    def _atom(self) -> Predicate:
        if self.pos >= len(self.tokens):
            raise UsageError(f"-k: expression ends too early: {self.source!r}")
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "(":
            inner = self.expression()
            if self._peek() != ")":
                raise UsageError(f"-k: missing ')' in {self.source!r}")
            self.pos += 1
            return inner
        if kind == ")" or (kind == "word" and value.lower() in _OPERATORS):
            raise UsageError(f"-k: unexpected {value!r} in {self.source!r}")
        needle = value.lower()
        return lambda t: needle in t.lower()


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda text: a(text) or b(text)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda text: a(text) and b(text)
