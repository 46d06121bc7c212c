"""Bounded views of output that lives on disk.

A command's output is streamed to a file; only its head and tail are read
into memory for matching and display, so a test that prints a gigabyte costs
a few hundred kilobytes here. Matchers that must see everything (exact,
contains, snapshot) scan the file in chunks instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from assay.model import Output

HEAD_BYTES = 256 * 1024
TAIL_BYTES = 256 * 1024
CHUNK = 1024 * 1024
# CSI sequences (`ESC [ ... m`), OSC strings (`ESC ] ... BEL` or `... ESC \`), then any other
# escape as ECMA-35 defines it: intermediate bytes 0x20-0x2F and one final byte 0x30-0x7E. That
# covers two-byte escapes such as `ESC 7` and `ESC =` and charset selection such as `ESC ( B`,
# which `tput sgr0` prints.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]")


def read_output(path: str | Path, head: int = HEAD_BYTES, tail: int = TAIL_BYTES) -> Output:
    """The head and tail of the file at `path` (all of it when small), decoded leniently."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_fd(fd, str(path), head, tail)
    finally:
        os.close(fd)


def read_fd(fd: int, path: str | None, head: int = HEAD_BYTES, tail: int = TAIL_BYTES) -> Output:
    """The head and tail of an open file; `path` is where to read all of it again."""
    size = os.fstat(fd).st_size
    if size <= head + tail:
        return Output(os.pread(fd, size, 0).decode("utf-8", "replace"), size, False, path)
    first = os.pread(fd, head, 0)
    last = os.pread(fd, tail, size - tail)
    omitted = size - head - tail
    text = (
        first.decode("utf-8", "replace")
        + f"\n[... {omitted} bytes omitted ...]\n"
        + last.decode("utf-8", "replace")
    )
    return Output(text, size, True, path)


def strip_ansi(text: str) -> str:
    """`text` without ANSI escape sequences (colours, cursor movement, titles)."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def chunks(path: str | Path, overlap: int = 0) -> Iterator[bytes]:
    """The bytes of a file in chunks; each starts with the last `overlap` bytes of the previous."""
    carry = b""
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            yield carry + block
            carry = block[-overlap:] if overlap else b""


def file_contains(path: str | Path, needle: str) -> bool:
    """Whether the file holds `needle`, read in chunks that overlap by its length."""
    data = needle.encode()
    return any(data in chunk for chunk in chunks(path, overlap=max(len(data) - 1, 0)))


def file_equals(path: str | Path, expected: bytes) -> bool:
    """Whether the file holds exactly `expected`, compared chunk by chunk."""
    if os.path.getsize(path) != len(expected):
        return False
    pos = 0
    for chunk in chunks(path):
        if expected[pos : pos + len(chunk)] != chunk:
            return False
        pos += len(chunk)
    return True


def files_equal(left: str | Path, right: str | Path) -> bool:
    """Whether two files have the same bytes, without loading either whole."""
    if os.path.getsize(left) != os.path.getsize(right):
        return False
    with open(left, "rb") as a, open(right, "rb") as b:
        while block := a.read(CHUNK):
            if block != b.read(CHUNK):
                return False
    return True
