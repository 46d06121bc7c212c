"""How a process ended: exit code, signal and duration (`assay.checks.check_status`)."""

from __future__ import annotations

import signal

import pytest

from assay.checks import Verdict, check_status, signal_name
from assay.model import ExitExpectation, Expectations, Failure

SIGSEGV = int(signal.SIGSEGV)
SIGTERM = int(signal.SIGTERM)
SIGKILL = int(signal.SIGKILL)


def status(
    expect: Expectations, exit_code: int | None, sig: int | None = None, duration: float = 0.1
) -> list[Failure]:
    verdict = Verdict()
    check_status(expect, exit_code, sig, duration, verdict)
    return verdict.failures


@pytest.mark.parametrize(
    ("exit_", "code"),
    [
        (ExitExpectation(), 0),
        (ExitExpectation(frozenset({3})), 3),
        (ExitExpectation(frozenset({1, 2})), 2),
        (ExitExpectation(nonzero=True), 1),
        (ExitExpectation(nonzero=True), 255),
        (None, 0),
        (None, 42),
    ],
    ids=["zero", "code", "list", "nonzero", "nonzero-255", "any-zero", "any-code"],
)
def test_exit_code_accepted(exit_: ExitExpectation | None, code: int) -> None:
    assert status(Expectations(exit=exit_), code) == []


@pytest.mark.parametrize(
    ("exit_", "code", "described"),
    [
        (ExitExpectation(), 1, "0"),
        (ExitExpectation(frozenset({3})), 0, "3"),
        (ExitExpectation(frozenset({2, 1})), 3, "one of 1, 2"),
        (ExitExpectation(nonzero=True), 0, "non-zero"),
    ],
    ids=["zero", "code", "list", "nonzero"],
)
def test_exit_code_rejected(exit_: ExitExpectation, code: int, described: str) -> None:
    assert status(Expectations(exit=exit_), code) == [
        Failure(
            "exit", f"exit code {code}, expected {described}", expected=described, actual=str(code)
        )
    ]


def test_unexpected_signal_is_named() -> None:
    assert status(Expectations(), None, SIGSEGV) == [
        Failure("signal", "killed by SIGSEGV; expected to exit", actual="SIGSEGV")
    ]


def test_unexpected_signal_is_reported_even_when_any_exit_is_fine() -> None:
    [failure] = status(Expectations(exit=None), None, SIGKILL)
    assert failure.message == "killed by SIGKILL; expected to exit"


def test_expected_signal_passes() -> None:
    assert status(Expectations(exit=None, signal=SIGTERM), None, SIGTERM) == []


def test_a_different_signal_fails() -> None:
    assert status(Expectations(exit=None, signal=SIGTERM), None, SIGKILL) == [
        Failure(
            "signal",
            "killed by SIGKILL; expected to be killed by SIGTERM",
            expected="SIGTERM",
            actual="SIGKILL",
        )
    ]


def test_exiting_when_a_signal_was_expected_fails() -> None:
    assert status(Expectations(exit=None, signal=SIGSEGV), 0) == [
        Failure(
            "signal",
            "exited with 0; expected to be killed by SIGSEGV",
            expected="SIGSEGV",
            actual="exit 0",
        )
    ]


def test_an_exit_code_is_not_checked_when_killed() -> None:
    assert [f.expectation for f in status(Expectations(), None, SIGTERM)] == ["signal"]


def test_expected_signal_and_exit_code_both_checked() -> None:
    expect = Expectations(exit=ExitExpectation(frozenset({1})), signal=SIGTERM)
    assert [f.expectation for f in status(expect, 2)] == ["signal", "exit"]


def test_no_exit_code_and_no_signal_adds_nothing() -> None:
    # A process that could not be started or waited for: other code reports that.
    assert status(Expectations(), None) == []


def test_duration_within_budget() -> None:
    assert status(Expectations(max_duration=1.0), 0, duration=0.5) == []
    assert status(Expectations(max_duration=1.0), 0, duration=1.0) == []


def test_duration_over_budget() -> None:
    assert status(Expectations(max_duration=0.5), 0, duration=2.5) == [
        Failure(
            "duration",
            "took 2.50s, expected at most 500ms",
            expected="500ms",
            actual="2.50s",
        )
    ]


def test_every_failure_is_reported() -> None:
    expect = Expectations(exit=ExitExpectation(), max_duration=1.0)
    failures = status(expect, 3, duration=90.0)
    assert [f.message for f in failures] == [
        "exit code 3, expected 0",
        "took 1m30s, expected at most 1.00s",
    ]


@pytest.mark.parametrize(
    ("number", "name"),
    [(SIGSEGV, "SIGSEGV"), (SIGTERM, "SIGTERM"), (SIGKILL, "SIGKILL"), (99, "signal 99")],
    ids=["segv", "term", "kill", "unknown"],
)
def test_signal_name(number: int, name: str) -> None:
    assert signal_name(number) == name
