"""The content-addressed artifact store: files named by their SHA-256, stored once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assay.store import ArtifactStore

DATA = b"a whole log\n" * 1000
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


def test_bytes_are_stored_under_their_digest(artifacts: ArtifactStore) -> None:
    assert artifacts.put_bytes(DATA) == DIGEST
    path = artifacts.path(DIGEST)
    assert path == artifacts.root / DIGEST[:2] / DIGEST
    assert path.read_bytes() == DATA
    assert artifacts.put_bytes(DATA) == DIGEST  # stored once
    assert list(artifacts.root.rglob("*")) == [path.parent, path]


@pytest.mark.parametrize("move", [False, True], ids=["copy", "move"])
def test_a_file_is_copied_or_moved_in(artifacts: ArtifactStore, tmp_path: Path, move: bool) -> None:
    source = tmp_path / "log.txt"
    source.write_bytes(DATA)
    assert artifacts.put_file(source, move=move) == DIGEST
    assert artifacts.path(DIGEST).read_bytes() == DATA
    assert source.exists() is not move


def test_moving_in_a_file_already_stored_drops_the_copy(
    artifacts: ArtifactStore, tmp_path: Path
) -> None:
    artifacts.put_bytes(DATA)
    source = tmp_path / "again.txt"
    source.write_bytes(DATA)
    assert artifacts.put_file(source, move=True) == DIGEST
    assert not source.exists()
    assert artifacts.path(DIGEST).read_bytes() == DATA


def test_no_partial_file_is_left_behind(artifacts: ArtifactStore) -> None:
    artifacts.put_bytes(DATA)
    assert [p.name for p in artifacts.root.rglob("*") if p.is_file()] == [DIGEST]


def test_removing_frees_the_bytes(artifacts: ArtifactStore) -> None:
    artifacts.put_bytes(DATA)
    assert artifacts.remove(DIGEST) == len(DATA)
    assert not artifacts.path(DIGEST).exists()
    assert artifacts.remove(DIGEST) == 0
