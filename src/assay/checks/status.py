"""Expectations on how a process ended: exit code, signal and duration."""

from __future__ import annotations

import signal as signals

from assay.checks.matchers import Verdict
from assay.model import Expectations, Failure
from assay.model.units import format_duration


def signal_name(number: int) -> str:
    """`SIGSEGV` for 11; `signal 99` for numbers without a name."""
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


def check_status(
    expect: Expectations,
    exit_code: int | None,
    signal: int | None,
    duration: float,
    verdict: Verdict,
) -> None:
    """Add failures for an unexpected exit code or signal, or a too-long run."""
    if signal is not None and signal != expect.signal:
        wanted = f"to be killed by {signal_name(expect.signal)}" if expect.signal else "to exit"
        verdict.failures.append(
            Failure(
                "signal",
                f"killed by {signal_name(signal)}; expected {wanted}",
                expected=signal_name(expect.signal) if expect.signal else None,
                actual=signal_name(signal),
            )
        )
    elif expect.signal is not None and signal is None:
        verdict.failures.append(
            Failure(
                "signal",
                f"exited with {exit_code}; expected to be killed by {signal_name(expect.signal)}",
                expected=signal_name(expect.signal),
                actual=f"exit {exit_code}",
            )
        )
    if (
        signal is None
        and exit_code is not None
        and expect.exit
        and not expect.exit.accepts(exit_code)
    ):
        verdict.failures.append(
            Failure(
                "exit",
                f"exit code {exit_code}, expected {expect.exit.describe()}",
                expected=expect.exit.describe(),
                actual=str(exit_code),
            )
        )
    if expect.max_duration is not None and duration > expect.max_duration:
        verdict.failures.append(
            Failure(
                "duration",
                f"took {format_duration(duration)}, expected at most "
                f"{format_duration(expect.max_duration)}",
                expected=format_duration(expect.max_duration),
                actual=format_duration(duration),
            )
        )
