"""How `ProcessSandbox` starts a process and reports its end: codes, signals, streams, env."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assay.model import Limits
from assay.sandbox.reaper import COOKIE

if TYPE_CHECKING:
    from conftest import Box


@pytest.mark.parametrize("code", [0, 1, 3, 255], ids=["zero", "one", "three", "255"])
def test_exit_code_is_reported(box: Box, code: int) -> None:
    outcome = box.run(f"exit {code}")
    assert outcome.exit_code == code
    assert outcome.signal is None
    assert outcome.stopped is None
    assert outcome.error is None
    assert outcome.leftovers == 0


@pytest.mark.parametrize(
    "sig",
    [signal.SIGSEGV, signal.SIGTERM, signal.SIGKILL, signal.SIGABRT],
    ids=["segv", "term", "kill", "abrt"],
)
def test_death_by_signal_is_reported(box: Box, sig: signal.Signals) -> None:
    outcome = box.run(f"kill -{sig.name.removeprefix('SIG')} $$")
    assert outcome.signal == int(sig)
    assert outcome.exit_code is None
    assert outcome.stopped is None
    assert outcome.error is None


def test_segfault_is_signal_11(box: Box) -> None:
    assert box.run("kill -SEGV $$").signal == 11


def test_stdout_and_stderr_go_to_their_files(box: Box) -> None:
    outcome = box.run("echo to-out; echo to-err >&2; printf 'no newline'")
    assert outcome.exit_code == 0
    assert box.out == "to-out\nno newline"
    assert box.err == "to-err\n"


def test_stdin_is_read_from_a_file(box: Box, tmp_path: Path) -> None:
    (tmp_path / "input.txt").write_text("first\nsecond\n")
    fd = os.open(tmp_path / "input.txt", os.O_RDONLY)
    try:
        outcome = box.run(("cat",), stdin=fd)
    finally:
        os.close(fd)
    assert outcome.exit_code == 0
    assert box.out == "first\nsecond\n"


def test_without_stdin_the_process_reads_end_of_file(box: Box) -> None:
    # `cat` would wait forever on a terminal or an open pipe.
    outcome = box.run(("cat",), timeout=10)
    assert outcome.stopped is None
    assert outcome.exit_code == 0
    assert box.out == ""


def test_a_closed_sandbox_starts_processes_again(box: Box) -> None:
    # The engine closes a sandbox it was given at the end of each run; it may be given again.
    box.run("true")
    box.sandbox.close()
    outcome = box.run(("cat",), timeout=10)
    assert outcome.exit_code == 0
    assert box.out == ""


def test_environment_is_passed_exactly(box: Box) -> None:
    env = {"ONLY": "this", "SPACES": "a b  c", "EMPTY": "", "UNICODE": "héllo"}
    outcome = box.run(("/usr/bin/env",), env=env)
    assert outcome.exit_code == 0
    variables = dict(line.split("=", 1) for line in box.out.splitlines())
    cookie = variables.pop(COOKIE)
    assert cookie.startswith(box.sandbox.run_id + "-")
    assert variables == env


def test_each_process_gets_its_own_cookie(box: Box) -> None:
    box.run(("sh", "-c", 'echo "$ASSAY_SANDBOX_ID"'))
    box.run(("sh", "-c", 'echo "$ASSAY_SANDBOX_ID"'))
    first, second = box.out.splitlines()
    assert first != second
    assert first.startswith(box.sandbox.run_id + "-")
    assert second.startswith(box.sandbox.run_id + "-")


def test_the_test_cannot_override_the_cookie(box: Box) -> None:
    env = {**box.env, COOKIE: "forged"}
    box.run('echo "$ASSAY_SANDBOX_ID"', env=env)
    assert box.out.strip().startswith(box.sandbox.run_id + "-")


def test_cwd_is_where_the_process_runs(box: Box, tmp_path: Path) -> None:
    where = tmp_path / "some" / "dir"
    where.mkdir(parents=True)
    outcome = box.run(("pwd", "-P"), cwd=where)
    assert outcome.exit_code == 0
    assert box.out == f"{where.resolve()}\n"


def test_argv_is_not_split_by_a_shell(box: Box) -> None:
    outcome = box.run(("printf", "[%s]\\n", "a b", "$HOME", "*"))
    assert outcome.exit_code == 0
    assert box.out == "[a b]\n[$HOME]\n[*]\n"


@pytest.mark.parametrize(
    "limits",
    [Limits(), Limits(open_files=64)],
    ids=["no-limits", "with-limits"],
)
def test_missing_program_is_an_error_not_an_exception(box: Box, limits: Limits) -> None:
    outcome = box.run(("no-such-program-for-assay",), limits=limits)
    assert outcome.error is not None
    assert "no-such-program-for-assay" in outcome.error
    assert "No such file or directory" in outcome.error
    assert outcome.exit_code is None
    assert outcome.signal is None


def test_missing_program_by_path_is_an_error(box: Box, tmp_path: Path) -> None:
    outcome = box.run((str(tmp_path / "missing.sh"),))
    assert outcome.error is not None
    assert "missing.sh" in outcome.error


def test_missing_program_by_path_with_limits_is_an_error(box: Box, tmp_path: Path) -> None:
    outcome = box.run((str(tmp_path / "missing.sh"),), limits=Limits(open_files=64))
    assert outcome.error is not None
    assert outcome.exit_code is None


def test_program_that_is_not_executable_is_an_error(box: Box, tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    outcome = box.run((str(script),))
    assert outcome.error is not None
    assert "Permission denied" in outcome.error


def test_a_program_found_on_the_given_path(box: Box, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "assay-test-tool"
    tool.write_text("#!/bin/sh\necho from the tool\n")
    tool.chmod(0o755)
    env = {**box.env, "PATH": f"{bin_dir}:{box.env['PATH']}"}
    outcome = box.run(("assay-test-tool",), env=env)
    assert outcome.exit_code == 0
    assert box.out == "from the tool\n"


def test_duration_and_start_time_are_recorded(box: Box) -> None:
    outcome = box.run("true")
    assert outcome.duration >= 0
    assert outcome.started_at.tzinfo is not None
