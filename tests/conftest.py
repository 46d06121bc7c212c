"""Shared fixtures live in `tests/fixtures/`; this file only registers them."""

from __future__ import annotations

pytest_plugins = (
    "fixtures.projects",
    "fixtures.reports",
    "fixtures.databases",
    "fixtures.server",
    "fixtures.containers",
)
