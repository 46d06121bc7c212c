"""Nothing a test starts outlives it: timeouts, leftovers, escapes, grace, idle and cancellation.

Each test marks its processes with a unique `sleep` duration and, once
`execute` has returned, looks for any process with that marker (and for the
sandbox's cookie in every process's environment). Timing is never asserted:
only what was stopped, why, and what is left.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assay.sandbox import Cancellation, wait
from fixtures.executions import Lingering

if TYPE_CHECKING:
    from conftest import Box


def assert_nothing_left(box: Box, marker: str, zombies_before: set[int]) -> None:
    """No process of the test is alive, none carries the cookie, and no new zombie waits."""
    left = box.marked(marker)
    assert left == [], [(p.pid, p.cmdline()) for p in left]
    assert box.cookie_holders() == []
    assert box.zombie_children() - zombies_before == set()


# Each piece is one way a process resists a timeout; "READY" proves it was started.
STUBBORN = {
    "shell-traps-term": "trap 'echo TERM ignored >&2' TERM\nwhile :; do sleep {m}0; done",
    "child-ignores-term": "sh -c 'trap \"\" TERM; sleep {m}1' &",
    "setsid-child": "setsid sleep {m}2 &",
    "double-fork-setsid": "(setsid sleep {m}3 &)",
    "plain-sleep": "sleep {m}4 &",
}


def stubborn_script(pieces: list[str], marker: str, ready: Path) -> str:
    body = [STUBBORN[p].format(m=marker) for p in pieces if p != "shell-traps-term"]
    body.append(f"echo > {ready}")
    if "shell-traps-term" in pieces:
        body.append(STUBBORN["shell-traps-term"].format(m=marker))
    else:
        body.append(f"sleep {marker}5")
    return "\n".join(body)


@pytest.mark.slow
@pytest.mark.parametrize(
    "pieces",
    [[name] for name in STUBBORN] + [list(STUBBORN)],
    ids=[*STUBBORN, "all-together"],
)
def test_timeout_kills_the_whole_tree(
    box: Box, marker: str, tmp_path: Path, pieces: list[str]
) -> None:
    ready = tmp_path / "ready"
    zombies = box.zombie_children()
    outcome = box.run(stubborn_script(pieces, marker, ready), timeout=1.0, grace=0.3)
    assert ready.exists(), "the tree was not fully started before the timeout"
    assert outcome.stopped == "timeout"
    assert outcome.exit_code is None
    assert outcome.signal in (signal.SIGTERM, signal.SIGKILL)
    assert_nothing_left(box, marker, zombies)


@pytest.mark.slow
def test_timeout_of_a_term_trapping_shell_ends_with_kill(box: Box, marker: str) -> None:
    script = f"trap 'echo got TERM >&2' TERM\nwhile :; do sleep {marker}; done"
    outcome = box.run(script, timeout=0.5, grace=0.3)
    assert outcome.stopped == "timeout"
    assert outcome.signal == signal.SIGKILL
    assert "got TERM" in box.err  # TERM came first, KILL only after the grace


@pytest.mark.slow
def test_escaped_processes_count_as_leftovers(box: Box, marker: str, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = stubborn_script(["setsid-child", "double-fork-setsid"], marker, ready)
    zombies = box.zombie_children()
    outcome = box.run(script, timeout=1.0, grace=0.3)
    assert ready.exists()
    assert outcome.stopped == "timeout"
    assert outcome.leftovers >= 1
    assert_nothing_left(box, marker, zombies)


@pytest.mark.parametrize(
    "background",
    [
        "sleep {m} &",
        "sh -c 'trap \"\" TERM; sleep {m}' &",
        "setsid sleep {m} &",
        "(setsid sleep {m} &)",
        "sh -c 'sleep {m} & sleep {m}' &",
    ],
    ids=["sleep", "ignores-term", "setsid", "double-fork-setsid", "nested"],
)
def test_leftovers_of_a_normal_exit_are_killed(box: Box, marker: str, background: str) -> None:
    zombies = box.zombie_children()
    outcome = box.run(f"{background.format(m=marker)}\necho done", grace=0.3)
    assert outcome.exit_code == 0
    assert outcome.stopped is None
    assert outcome.leftovers >= 1
    assert box.out == "done\n"
    assert_nothing_left(box, marker, zombies)


def test_a_clean_exit_has_no_leftovers(box: Box) -> None:
    outcome = box.run("sleep 0.01 & wait; echo done")
    assert outcome.exit_code == 0
    assert outcome.leftovers == 0


def test_exited_children_in_the_group_are_reaped(box: Box) -> None:
    zombies = box.zombie_children()
    # The subshell's child is orphaned inside the group, and re-parented to Assay.
    outcome = box.run("(sh -c 'exit 0' &); sleep 0.2; echo done")
    assert outcome.exit_code == 0
    assert box.zombie_children() - zombies == set()


def test_escaped_children_that_exited_are_reaped(box: Box) -> None:
    zombies = box.zombie_children()
    outcome = box.run("(setsid true &); sleep 0.2; echo done")
    assert outcome.exit_code == 0
    new = box.zombie_children() - zombies
    for pid in new:  # do not leave them to the rest of the session
        os.waitpid(pid, 0)
    assert new == set()


class TestGrace:
    def test_a_process_that_exits_on_term_gets_its_grace(
        self, box: Box, marker: str, tmp_path: Path
    ) -> None:
        trapped = tmp_path / "trapped"
        script = (
            f"trap 'echo cleaned up > {trapped}; exit 3' TERM\n"
            f"sleep {marker} &\nwait\necho not reached"
        )
        zombies = box.zombie_children()
        outcome = box.run(script, timeout=0.3, grace=0.5)
        assert outcome.stopped == "timeout"
        assert outcome.exit_code == 3  # it exited by itself, not by KILL
        assert outcome.signal is None
        assert trapped.read_text() == "cleaned up\n"
        assert "not reached" not in box.out
        assert_nothing_left(box, marker, zombies)

    @pytest.mark.slow
    def test_a_process_that_ignores_term_is_killed_after_the_grace(
        self, box: Box, marker: str, tmp_path: Path
    ) -> None:
        script = f"trap '' TERM\nwhile :; do sleep {marker}; done"
        zombies = box.zombie_children()
        outcome = box.run(script, timeout=0.3, grace=0.3)
        assert outcome.stopped == "timeout"
        assert outcome.signal == signal.SIGKILL
        assert_nothing_left(box, marker, zombies)


class TestIdle:
    def test_silence_stops_the_process(self, box: Box, marker: str) -> None:
        zombies = box.zombie_children()
        outcome = box.run(f"echo once\nsleep {marker}", timeout=30, idle_timeout=0.3)
        assert outcome.stopped == "idle"
        assert box.out == "once\n"
        assert_nothing_left(box, marker, zombies)

    def test_no_output_at_all_is_idle(self, box: Box, marker: str) -> None:
        outcome = box.run(f"sleep {marker}", timeout=30, idle_timeout=0.3)
        assert outcome.stopped == "idle"

    @pytest.mark.slow
    @pytest.mark.parametrize("stream", ["stdout", "stderr"], ids=["stdout", "stderr"])
    def test_steady_output_runs_until_the_timeout(self, box: Box, stream: str) -> None:
        redirect = " >&2" if stream == "stderr" else ""
        script = f"while :; do echo tick{redirect}; sleep 0.02; done"
        outcome = box.run(script, timeout=1.0, idle_timeout=0.6)
        assert outcome.stopped == "timeout"
        written = box.err if stream == "stderr" else box.out
        assert written.count("tick") > 1

    def test_a_process_that_ends_in_time_is_not_idle(self, box: Box) -> None:
        outcome = box.run("echo hi", timeout=30, idle_timeout=0.3)
        assert outcome.stopped is None
        assert outcome.exit_code == 0


class TestCancellation:
    def test_cancel_from_another_thread_stops_the_process(
        self, box: Box, marker: str, tmp_path: Path
    ) -> None:
        started = tmp_path / "started"

        def cancel_once_started() -> None:
            for _ in range(400):  # the command touches `started` first thing
                if started.exists():
                    break
                time.sleep(0.025)
            box.cancel.cancel("x")

        thread = threading.Thread(target=cancel_once_started)
        zombies = box.zombie_children()
        thread.start()
        try:
            # Only the cancellation can end it: the timeout is far away.
            outcome = box.run(f"touch {started}; sleep {marker}", timeout=300)
        finally:
            thread.join()
        assert outcome.stopped == "cancelled"
        assert box.cancel.cancelled
        assert box.cancel.reason == "x"
        assert_nothing_left(box, marker, zombies)

    def test_already_cancelled_stops_at_once(self, box: Box, marker: str) -> None:
        box.cancel.cancel("early")
        outcome = box.run(f"sleep {marker}", timeout=300)
        assert outcome.stopped == "cancelled"
        assert box.cancel.reason == "early"

    def test_the_first_reason_wins(self, box: Box) -> None:
        box.cancel.cancel("first")
        box.cancel.cancel("second")
        assert box.cancel.reason == "first"


def test_waiting_out_a_cancelled_execution_does_not_spin() -> None:
    # The cancellation's descriptor stays readable; polling it would advance non-stop.
    cancel = Cancellation()
    cancel.cancel("x")
    execution = Lingering()
    try:
        outcome = wait(execution, cancel)
    finally:
        cancel.close()
    assert outcome.stopped == "cancelled"
    assert execution.advances < 10 * Lingering.LINGER / Lingering.RECHECK
