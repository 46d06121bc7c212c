"""Bounded text: one giant captured stream or traceback must not blow an import's memory.

A foreign report can hold any amount of output for one test. Importers collect
each text through `BoundedText`, which keeps its head and its tail and counts
the bytes in between, the way `assay.checks.outputs` treats a command's
output on disk.
"""

from __future__ import annotations

from assay.model import Output

HEAD_CHARS = 16 * 1024
TAIL_CHARS = 48 * 1024


class BoundedText:
    """A text received in pieces, of which only the head and the tail are kept."""

    __slots__ = ("_head", "_tail", "_tail_chars", "dropped", "size")

    def __init__(self, text: str = "") -> None:
        self._head = ""
        self._tail: list[str] = []
        self._tail_chars = 0
        self.dropped = False
        self.size = 0
        if text:
            self.add(text)

    def add(self, piece: str) -> None:
        """Append `piece`, forgetting the middle once head and tail are full."""
        self.size += len(piece) if piece.isascii() else len(_utf8(piece))
        room = HEAD_CHARS - len(self._head)
        if room > 0:
            self._head += piece[:room]
            piece = piece[room:]
            if not piece:
                return
        self._tail.append(piece)
        self._tail_chars += len(piece)
        # Joining only when the tail is twice its bound keeps appends amortised O(1).
        if self._tail_chars > 2 * TAIL_CHARS:
            self._trim()

    def _trim(self) -> None:
        joined = "".join(self._tail)
        if len(joined) > TAIL_CHARS:
            joined = joined[-TAIL_CHARS:]
            self.dropped = True
        self._tail = [joined]
        self._tail_chars = len(joined)

    @property
    def empty(self) -> bool:
        """Whether nothing at all was received."""
        return self.size == 0

    def text(self) -> str:
        """The whole text, or its head and tail around an omission marker."""
        self._trim()
        tail = self._tail[0] if self._tail else ""
        if not self.dropped:
            return _clean(self._head + tail)
        omitted = self.size - len(_utf8(self._head)) - len(_utf8(tail))
        return _clean(f"{self._head}\n[... {omitted} bytes omitted ...]\n{tail}")

    def first_line(self) -> str:
        """The first non-blank line, stripped: a message for a failure that gives none."""
        for line in self._head.splitlines():
            if line.strip():
                return line.strip()
        return ""

    def output(self) -> Output:
        """The text as a captured stream."""
        return Output(self.text(), self.size, self.dropped)


def bounded(text: str) -> str:
    """`text`, cut to its head and tail when it is too long to keep whole."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return _clean(text)
    return BoundedText(text).text()


def _utf8(text: str) -> bytes:
    # JSON can carry lone surrogates, which UTF-8 cannot; they are counted as written.
    return text.encode("utf-8", "surrogatepass")


def _clean(text: str) -> str:
    """`text` with any lone surrogate replaced, so that it can be stored and printed."""
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")
