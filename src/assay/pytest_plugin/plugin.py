"""The pytest plugin Assay registers through the `pytest11` entry point.

pytest loads this module into every session in an environment where Assay
is installed, Assay's own test suite included, so it imports nothing but
pytest and does nothing unless one of its options is given. Recording
itself lives in `recording.py`, imported only then.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["assay.pytest_plugin.fixtures"]
"""The `assay_service` fixtures: a plugin module of their own, with their own options and hooks."""

PATIENCE = "2m"
"""How long to keep trying a server that does not answer, unless told otherwise."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Assay's options, in their own group of `pytest --help`."""
    group = parser.getgroup("assay", "recording into Assay")
    group.addoption("--assay", action="store_true", help="record this session into Assay's store")
    group.addoption(
        "--assay-db",
        metavar="URL",
        help="Assay's database (default: ASSAY_DATABASE_URL, the project's assay.toml or "
        "[tool.assay], or .assay/assay.db); implies --assay",
    )
    group.addoption(
        "--assay-url",
        "--assay-report-to",
        dest="assay_report_to",
        metavar="URL",
        help="send the session to the Assay server at URL instead of the local store "
        "(default with --assay: ASSAY_REPORT_TO); implies --assay",
    )
    group.addoption(
        "--assay-token",
        metavar="TOKEN",
        help="the server's API token, with the run scope (default: ASSAY_TOKEN)",
    )
    group.addoption(
        "--assay-report-patience",
        metavar="DURATION",
        help=f"how long to keep trying a server that does not answer (default: {PATIENCE})",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start recording when asked to, on the process that runs the session."""
    option = config.option
    wanted = option.assay or option.assay_db or option.assay_report_to
    # pytest-xdist's workers send their reports to the controller, which records them.
    if not wanted or hasattr(config, "workerinput") or option.collectonly:
        return
    from assay.pytest_plugin.recording import Recording, RecordingOptions

    options = RecordingOptions(
        database_url=option.assay_db,
        report_to=option.assay_report_to or os.environ.get("ASSAY_REPORT_TO") or None,
        token=option.assay_token or os.environ.get("ASSAY_TOKEN") or None,
        patience=_patience(
            option.assay_report_patience or os.environ.get("ASSAY_REPORT_PATIENCE") or PATIENCE
        ),
    )
    if options.report_to is not None and not _is_server_url(options.report_to):
        raise pytest.UsageError(
            f"--assay-url: expected an http:// or https:// URL, not {options.report_to!r}"
        )
    config.pluginmanager.register(Recording(config, options), "assay-recording")


def _patience(text: str) -> float:
    from assay.model.units import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise pytest.UsageError(f"--assay-report-patience: {error}") from None


def _is_server_url(text: str) -> bool:
    return text.startswith(("http://", "https://")) and len(text) > len("https://")
