"""Reports of unusual runs: one cut short by its deadline, and one with a huge output."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

import assay
from assay.reports import SCHEMA_FILE, ConsoleReporter
from fixtures.projects import isolate

SUITE = """\
tests:
  - name: sleeps
    run: [sleep, "5"]
  - name: never starts
    run: echo hi
"""


def test_reports_of_an_interrupted_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "assay.toml").write_text("")
    (tmp_path / "deadline.assay.yaml").write_text(SUITE)
    isolate(monkeypatch, tmp_path)
    out = io.StringIO()
    result = assay.run(
        [tmp_path],
        jobs=1,
        timeout=0.3,
        junit=tmp_path / "out" / "junit.xml",
        json=tmp_path / "out" / "run.json",
        handlers=[ConsoleReporter(out)],
    )

    assert result.interrupted == "run deadline of 300ms reached"
    assert [r.outcome for r in result.results] == [assay.Outcome.TIMEOUT, assay.Outcome.SKIPPED]

    document = json.loads((tmp_path / "out" / "run.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(document)
    assert document["interrupted"] == "run deadline of 300ms reached"
    assert document["results"][1]["reason"] == "run deadline of 300ms reached"

    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("2", "1", "1")
    failure = root.find("testsuite/testcase[@name='sleeps']/failure")
    assert failure is not None
    assert failure.get("type") == "timeout"

    console = out.getvalue()
    assert "\nrun stopped: run deadline of 300ms reached\n" in console
    assert console.splitlines()[-1].startswith("0 passed, 0 failed, 1 skipped, 1 timeout in ")


def test_large_output_is_cut_to_its_head_and_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = 3 * 1024 * 1024
    (tmp_path / "assay.toml").write_text("")
    (tmp_path / "big.assay.yaml").write_text(
        f"tests:\n  - name: floods\n    run: yes | head -c {size}; exit 1\n"
    )
    isolate(monkeypatch, tmp_path)
    assay.run([tmp_path], junit=tmp_path / "junit.xml", json=tmp_path / "run.json")

    document = json.loads((tmp_path / "run.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(document)
    stdout = document["results"][0]["attempts"][0]["stdout"]
    assert stdout["size"] == size
    assert stdout["truncated"] is True
    omitted = size - 512 * 1024
    assert f"\n[... {omitted} bytes omitted ...]\n" in stdout["text"]
    assert len(stdout["text"]) < size // 2

    system_out = ET.parse(tmp_path / "junit.xml").findtext("testsuite/testcase/system-out")
    assert system_out == stdout["text"]
