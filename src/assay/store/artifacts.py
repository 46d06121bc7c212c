"""Files kept by content: `<root>/<first two hex digits>/<sha256>`.

Identical files are stored once, and a file's name says what it holds, so
nothing is overwritten and a half-written file is never visible under its
final name (it is written beside it, then renamed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

CHUNK = 1 << 20


class ArtifactStore:
    """The content-addressed file store under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def incoming(self) -> Path:
        """Where runners leave whole logs for the recorder to move into the store."""
        return self.root / ".incoming"

    def path(self, sha256: str) -> Path:
        """Where the artifact with this digest lives."""
        return self.root / sha256[:2] / sha256

    def put_bytes(self, data: bytes) -> str:
        """Store `data`; returns its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            self._write(target, lambda f: f.write(data))
        return digest

    def put_file(self, source: Path, *, move: bool = False) -> str:
        """Store a copy of `source` (or `source` itself with `move`); returns its SHA-256."""
        digest = hashlib.sha256()
        with source.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        name = digest.hexdigest()
        target = self.path(name)
        if target.exists():
            if move:
                source.unlink()
        elif move:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
        else:
            with source.open("rb") as f:
                self._write(target, lambda out: shutil.copyfileobj(f, out, CHUNK))
        return name

    def remove(self, sha256: str) -> int:
        """Delete an artifact's file; returns the bytes freed."""
        target = self.path(sha256)
        try:
            size = target.stat().st_size
            target.unlink()
        except FileNotFoundError:
            return 0
        return size

    def _write(self, target: Path, write: object) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        with partial.open("wb") as out:
            write(out)  # type: ignore[operator]
        os.replace(partial, target)
