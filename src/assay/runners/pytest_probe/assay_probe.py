"""Assay's probe inside a pytest session that a `pytest:` test runs.

Loaded with `-p assay_probe` from a copy in the attempt's work directory, so
it works with any pytest, in any environment, with nothing installed there.
It imports nothing from Assay. With `--collect-only` it writes the items
pytest collected; otherwise every report, as pytest-reportlog would (one JSON
object per line), to the file named by `ASSAY_PROBE_OUT`. Under pytest-xdist
only the controller writes: the workers' reports reach it.
"""

from __future__ import annotations

import json
import os
from typing import Any

_state: dict[str, Any] = {}


def pytest_configure(config: Any) -> None:
    path = os.environ.get("ASSAY_PROBE_OUT")
    if path and not hasattr(config, "workerinput"):
        _state["config"] = config
        _state["file"] = open(path, "w", encoding="utf-8")  # noqa: SIM115


def _write(data: dict[str, Any]) -> None:
    file = _state.get("file")
    if file is not None:
        file.write(json.dumps(data, default=str) + "\n")
        file.flush()


def _serialized(report: Any) -> dict[str, Any]:
    config = _state["config"]
    data: dict[str, Any] = config.hook.pytest_report_to_serializable(config=config, report=report)
    return data


def pytest_collection_finish(session: Any) -> None:
    if "file" in _state and session.config.option.collectonly:
        _write({"$report_type": "Root", "rootdir": str(session.config.rootpath)})
        for item in session.items:
            _write({"$report_type": "Item", "nodeid": item.nodeid, "location": item.location})


def pytest_collectreport(report: Any) -> None:
    if "file" in _state and report.failed:
        _write(_serialized(report))


def pytest_runtest_logreport(report: Any) -> None:
    if "file" in _state and not _state["config"].option.collectonly:
        _write(_serialized(report))


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if "file" in _state:
        _write({"$report_type": "SessionFinish", "exitstatus": int(exitstatus)})


def pytest_unconfigure(config: Any) -> None:
    file = _state.pop("file", None)
    if file is not None:
        file.close()
