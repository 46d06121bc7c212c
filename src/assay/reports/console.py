"""The console report: live progress while a run goes on, then failure details and a summary.

On a terminal there is one progress line, redrawn in place, with failures
printed above it as they happen. Without a terminal (CI logs) each finished
test gets one plain line instead.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from assay.checks import preview_lines
from assay.model import (
    AttemptFinished,
    Event,
    Outcome,
    Result,
    RunFinished,
    RunResult,
    RunStarted,
    TestFinished,
)
from assay.model.units import format_duration

_COLORS = {
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "bold": "1",
    "dim": "2",
}
_OUTCOME_STYLE = {
    Outcome.PASSED: ("PASS", "green"),
    Outcome.FAILED: ("FAIL", "red"),
    Outcome.ERROR: ("ERROR", "red"),
    Outcome.TIMEOUT: ("TIMEOUT", "red"),
    Outcome.SKIPPED: ("SKIP", "yellow"),
}
_TAIL_LINES = 15


class ConsoleReporter:
    """Prints a run to a text stream; `live` draws a progress line for terminals."""

    def __init__(
        self, out: TextIO, *, color: bool = False, live: bool = False, quiet: bool = False
    ) -> None:
        self.out = out
        self.color = color
        self.live = live
        self.quiet = quiet
        self.total = 0
        self.done: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()

    def style(self, text: str, *names: str) -> str:
        """`text` in the given colours, when colour is on."""
        if not self.color or not names:
            return text
        codes = ";".join(_COLORS[n] for n in names)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def handle(self, event: Event) -> None:
        """React to one engine event."""
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, TestFinished):
            self._finished(event.result)
        elif isinstance(event, AttemptFinished):
            self._retried(event)
        elif isinstance(event, RunFinished):
            self._run_finished(event.result)

    def _started(self, event: RunStarted) -> None:
        self.total = len(event.tests)
        self.start = time.monotonic()
        files = len({t.suite_file for t in event.tests})
        self._print(
            self.style(
                f"assay: {_plural(self.total, 'test')} from {_plural(files, 'file')}, "
                f"{_plural(event.jobs, 'job')}",
                "bold",
            )
        )
        if self.live:
            self._ticker = threading.Thread(target=self._tick, daemon=True, name="assay-progress")
            self._ticker.start()

    def _retried(self, event: AttemptFinished) -> None:
        attempt = event.attempt
        # Passing and skipping (a pytest test's skip or xfail) end a test: no retry follows.
        if attempt.outcome in (Outcome.PASSED, Outcome.SKIPPED) or (
            attempt.number > event.test.retries
        ):
            return
        reason = attempt.failures[0].message if attempt.failures else attempt.outcome.value
        self._print(
            self.style(f"RETRY {event.test.id} (attempt {attempt.number}: {reason})", "yellow")
        )

    def _finished(self, result: Result) -> None:
        self.done[result.outcome] += 1
        word, colour = _OUTCOME_STYLE[result.outcome]
        show = not self.quiet or result.outcome not in (Outcome.PASSED, Outcome.SKIPPED)
        if self.live and result.outcome in (Outcome.PASSED, Outcome.SKIPPED):
            show = False
        if show:
            extra = (
                f"  {self.style(format_duration(result.duration), 'dim')}"
                if result.attempts
                else ""
            )
            if result.flaky:
                extra += self.style(f"  flaky ({len(result.attempts)} attempts)", "yellow")
            if result.outcome is Outcome.SKIPPED and result.reason:
                extra += self.style(f"  ({result.reason})", "dim")
            self._print(f"{self.style(word.ljust(7), colour, 'bold')} {result.test.id}{extra}")
        elif self.live:
            self._draw()

    def _run_finished(self, run: RunResult) -> None:
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.live:
                self.out.write("\r\x1b[2K")
            self.out.write(self.details(run))
            self.out.flush()

    def details(self, run: RunResult) -> str:
        """Failure details, skip reasons, notes, and the closing summary line."""
        lines: list[str] = []
        failed = [r for r in run.results if r.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]
        if failed:
            lines += ["", self.style(" FAILURES ".center(72, "="), "red", "bold")]
            for result in failed:
                lines += self.failure(result)
        skipped = [r for r in run.results if r.outcome is Outcome.SKIPPED]
        if skipped and not self.quiet:
            lines += ["", self.style("skipped:", "yellow")]
            lines += [f"  {r.test.id}: {r.reason}" for r in skipped]
        notes = [f"{r.test.id}: {n}" for r in run.results for a in r.attempts for n in a.notes]
        if notes:
            lines += ["", *notes]
        if run.tmp_dir:
            lines += ["", f"kept work directories in {run.tmp_dir}"]
        if run.interrupted:
            lines += ["", self.style(f"run stopped: {run.interrupted}", "red", "bold")]
        colour = "green" if run.ok else "red"
        lines += ["", self.style(run.summary(), colour, "bold")]
        return "\n".join(lines) + "\n"

    def failure(self, result: Result) -> list[str]:
        """The report of one failed test: header, each failed expectation, output tails."""
        test = result.test
        word, colour = _OUTCOME_STYLE[result.outcome]
        lines = [
            "",
            self.style(f"{word} {test.id}", colour, "bold"),
            self.style(f"  at {test.location}", "dim"),
        ]
        if not result.attempts:
            return [*lines, f"  {result.reason}"]
        attempt = result.attempts[-1]
        facts = (
            [f"attempt {attempt.number} of {len(result.attempts)}"]
            if len(result.attempts) > 1
            else []
        )
        if attempt.signal:
            facts.append(f"killed by {attempt.signal}")
        elif attempt.exit_code is not None:
            facts.append(f"exit {attempt.exit_code}")
        else:  # the program could not be started, so it has neither
            facts.append("did not start")
        facts.append(format_duration(attempt.duration))
        if attempt.workdir and result.attempts and self._kept(attempt.workdir):
            facts.append(f"work dir {attempt.workdir}")
        lines.append(self.style("  " + " · ".join(facts), "dim"))
        for failure in attempt.failures:
            lines.append(f"  {self.style('✗', 'red')} {failure.message}")
            if failure.diff:
                lines += ["    " + self._diff_line(line) for line in failure.diff.splitlines()]
            elif (
                failure.expected is not None
                and failure.actual is not None
                and "\n" not in failure.actual
            ):
                lines.append(f"    expected: {failure.expected}")
                lines.append(f"    actual:   {failure.actual}")
        for name, output in (("stdout", attempt.stdout), ("stderr", attempt.stderr)):
            if output is not None and output.size:
                tail = preview_lines(output.text, _TAIL_LINES)
                lines.append(self.style(f"  {name} ({output.size} bytes, last lines):", "dim"))
                lines += [f"    {line}" for line in tail]
        return lines

    @staticmethod
    def _kept(workdir: str) -> bool:
        import os

        return os.path.isdir(workdir)

    def _diff_line(self, line: str) -> str:
        if line.startswith(("+++", "---")):
            return self.style(line, "bold")
        if line.startswith("+"):
            return self.style(line, "green")
        if line.startswith("-"):
            return self.style(line, "red")
        if line.startswith("@@"):
            return self.style(line, "cyan")
        return line

    def _print(self, line: str) -> None:
        with self._lock:
            if self.live:
                self.out.write("\r\x1b[2K")
            self.out.write(line + "\n")
            if self.live:
                self.out.write(self._bar())
            self.out.flush()

    def _draw(self) -> None:
        with self._lock:
            self.out.write("\r\x1b[2K" + self._bar())
            self.out.flush()

    def _tick(self) -> None:
        while not self._stopped.wait(0.2):
            self._draw()

    def _bar(self, width: int = 24) -> str:
        finished = sum(self.done.values())
        filled = int(width * finished / self.total) if self.total else width
        bar = "█" * filled + "░" * (width - filled)
        bad = self.done[Outcome.FAILED] + self.done[Outcome.ERROR] + self.done[Outcome.TIMEOUT]
        counts = (
            f"{self.style(str(self.done[Outcome.PASSED]) + ' passed', 'green')}, "
            f"{self.style(str(bad) + ' failed', 'red' if bad else 'dim')}, "
            f"{self.done[Outcome.SKIPPED]} skipped"
        )
        elapsed = time.monotonic() - self.start
        return f"{finished}/{self.total} {bar} {counts}  {elapsed:.1f}s"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
