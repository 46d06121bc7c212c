"""The pytest plugin Assay registers through the `pytest11` entry point."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Assay's options, in their own group of `pytest --help`."""
    group = parser.getgroup("assay", "recording into Assay")
    group.addoption("--assay", action="store_true", help="record this session into Assay's store")
