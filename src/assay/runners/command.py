"""The runner for command tests (`run:`): one attempt in, one `Attempt` out."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from assay.checks import (
    SnapshotTarget,
    Verdict,
    check_files,
    check_output,
    check_status,
    signal_name,
    slug,
)
from assay.model import Attempt, CommandTest, Failure, MatcherKind, Outcome, Output
from assay.model.units import format_duration
from assay.runners.workspace import Workspace, Workspaces
from assay.sandbox import (
    Cancellation,
    Execution,
    ProcessOutcome,
    ProcessRequest,
    Sandbox,
    wait,
)

DEFAULT_ENV = {"NO_COLOR": "1", "TERM": "dumb"}
DEADLINE = "run deadline reached"


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """Run-wide settings a runner applies to every test."""

    update_snapshots: bool = False
    strip_ansi: bool = False
    timeout: float | None = 60.0
    idle_timeout: float | None = None
    grace: float = 2.0
    keep_tmp: bool = False
    logs_dir: Path | None = None
    """Where to save whole logs larger than `logs_over` bytes (for the recorder to store)."""
    logs_over: int = 4096


@dataclass(slots=True)
class Started:
    """An attempt whose command is running; `CommandRunner.finish` completes it."""

    test: CommandTest
    number: int
    request: ProcessRequest
    workspace: Workspace
    execution: Execution | None


class CommandRunner:
    """Turns one attempt of a command test into an `Attempt`, using a sandbox and the checks."""

    def __init__(self, sandbox: Sandbox, config: RunnerConfig) -> None:
        self.sandbox = sandbox
        self.config = config
        # Reading os.environ decodes every variable; do it once per run, not per test.
        self.inherited = dict(os.environ)

    def attempt(
        self,
        test: CommandTest,
        number: int,
        workspaces: Workspaces,
        name: str,
        cancel: Cancellation,
    ) -> Attempt:
        """Run attempt `number` of `test` to its end, blocking this thread."""
        started = self.start(test, number, workspaces, name)
        if isinstance(started, Attempt):
            return started
        assert started.execution is not None
        return self.finish(started, wait(started.execution, cancel), cancel)

    def start(
        self,
        test: CommandTest,
        number: int,
        workspaces: Workspaces,
        name: str,
        services: Mapping[str, str] | None = None,
    ) -> Started | Attempt:
        """Prepare a fresh, empty workspace and start the command in it.

        `services` are the values of the services the test uses (`api.url`, ...),
        for its `${{ services.NAME.x }}` references. Returns the finished
        `Attempt` at once when the command cannot start.
        """
        if services:
            test = with_services(test, services)
        # The sandbox cannot tell a missing cwd from a missing program (both are ENOENT
        # from exec), so it would blame the program; name the directory instead.
        if test.cwd and Path(test.cwd).is_absolute() and not Path(test.cwd).is_dir():
            return _errored(number, f"cannot run in {test.cwd}: no such directory")
        try:
            workspace = workspaces.open(name)
        except OSError as error:
            return _errored(number, f"cannot create the work directory: {error}")
        try:
            request = self._request(test, workspace)
        except OSError as error:
            workspace.close()
            return _errored(number, f"cannot prepare the work directory: {error}")
        execution = self.sandbox.start(request)
        if isinstance(execution, ProcessOutcome):
            return self.finish(Started(test, number, request, workspace, None), execution, None)
        return Started(test, number, request, workspace, execution)

    def finish(
        self, started: Started, outcome: ProcessOutcome, cancel: Cancellation | None
    ) -> Attempt:
        """Check the ended command against its expectations and release its workspace."""
        try:
            return self._attempt(started, outcome, cancel)
        finally:
            started.workspace.close()

    def _attempt(
        self, started: Started, outcome: ProcessOutcome, cancel: Cancellation | None
    ) -> Attempt:
        test, workspace, request = started.test, started.workspace, started.request
        stdout, stderr = workspace.outputs()
        verdict = Verdict()
        if outcome.error:
            result = Outcome.ERROR
            verdict.failures.append(Failure("run", outcome.error))
        elif outcome.stopped:
            result = stopped(outcome, request, cancel, verdict)
        else:
            self._verify(test, outcome, stdout, stderr, workspace.workdir, verdict)
            result = Outcome.FAILED if verdict.failures else Outcome.PASSED
        return Attempt(
            number=started.number,
            outcome=result,
            started_at=outcome.started_at,
            duration=outcome.duration,
            exit_code=outcome.exit_code,
            signal=signal_name(outcome.signal) if outcome.signal else None,
            failures=tuple(verdict.failures),
            stdout=workspace.kept(stdout, "stdout", self._log_path(stdout, "stdout")),
            stderr=workspace.kept(stderr, "stderr", self._log_path(stderr, "stderr")),
            workdir=workspace.kept_dir,
            notes=tuple(verdict.notes),
        )

    def _log_path(self, output: Output, stream: str) -> Path | None:
        """Where to save this stream's whole log, if it is too big to keep on the result row."""
        config = self.config
        if config.logs_dir is None or output.size <= config.logs_over:
            return None
        return config.logs_dir / f"{os.getpid()}-{os.urandom(8).hex()}.{stream}"

    def _verify(
        self,
        test: CommandTest,
        outcome: ProcessOutcome,
        stdout: Output,
        stderr: Output,
        workdir: Path,
        verdict: Verdict,
    ) -> None:
        expect = test.expect
        check_status(expect, outcome.exit_code, outcome.signal, outcome.duration, verdict)
        ansi = test.strip_ansi or self.config.strip_ansi
        for stream, matchers, output in (
            ("stdout", expect.stdout, stdout),
            ("stderr", expect.stderr, stderr),
        ):
            if matchers:
                # Most tests have no snapshot; skip building its paths for them.
                snapshot = any(m.kind is MatcherKind.SNAPSHOT for m in matchers)
                target = self._snapshots(test, f".{stream}") if snapshot else None
                check_output(matchers, output, stream, verdict, snapshots=target, ansi=ansi)
        if expect.files:
            check_files(expect.files, workdir, verdict, self._snapshots(test, ""))

    def _snapshots(self, test: CommandTest, suffix: str) -> SnapshotTarget:
        suite = test.suite_file
        stem = suite.name.removesuffix(".yaml").removesuffix(".yml").removesuffix(".assay")
        return SnapshotTarget(
            suite.parent / "__snapshots__" / stem,
            slug(test.name) + suffix,
            self.config.update_snapshots,
        )

    def _request(self, test: CommandTest, workspace: Workspace) -> ProcessRequest:
        workdir = workspace.workdir
        for spec in test.files:
            path = workdir / spec.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(spec.content)
            if spec.mode is not None:
                path.chmod(spec.mode)
        cwd = workdir
        if test.cwd:
            cwd = workdir / test.cwd
            if not Path(test.cwd).is_absolute():
                cwd.mkdir(parents=True, exist_ok=True)
        # A container has its own system (and its image its own PATH): it gets only
        # Assay's defaults and the test's own variables.
        if test.sandbox.kind == "container":
            env = environment(replace(test, inherit_env=True), {})
        else:
            env = environment(test, self.inherited)
        return ProcessRequest(
            argv=test.argv,
            cwd=cwd,
            env=env,
            stdin=workspace.stdin(test.stdin),
            stdout=workspace.stdout,
            stderr=workspace.stderr,
            timeout=test.timeout or self.config.timeout,
            idle_timeout=test.idle_timeout or self.config.idle_timeout,
            grace=self.config.grace,
            limits=test.limits,
            label=test.id,
            isolation=test.sandbox,
            workdir=workdir,
        )


def with_services(test: CommandTest, values: Mapping[str, str]) -> CommandTest:
    """`test` with its `${{ services.NAME.x }}` references replaced by the running services'."""
    from assay.spec.interpolation import Scope, interpolate  # only tests with services need it

    scope = Scope({"services": values})

    def resolve(text: str) -> str:
        return interpolate(text, scope)[0]

    run = resolve(test.run) if isinstance(test.run, str) else tuple(map(resolve, test.run))
    return replace(
        test,
        run=run,
        env=tuple((name, None if value is None else resolve(value)) for name, value in test.env),
        stdin=None if test.stdin is None else resolve(test.stdin),
        cwd=None if test.cwd is None else resolve(test.cwd),
        files=tuple(replace(f, content=resolve(f.content)) for f in test.files),
    )


def environment(test: CommandTest, inherited: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment: inherited (or just PATH), then Assay's defaults, then its own."""
    inherited = os.environ if inherited is None else inherited
    path_only = {"PATH": inherited.get("PATH", os.defpath)}
    env = dict(inherited) if test.inherit_env else path_only
    env.update(DEFAULT_ENV)
    for name, value in test.env:
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def stopped(
    outcome: ProcessOutcome,
    request: ProcessRequest,
    cancel: Cancellation | None,
    verdict: Verdict,
) -> Outcome:
    """The outcome of a process Assay stopped, with the reason added to `verdict`."""
    if outcome.stopped == "timeout":
        message = f"timed out after {format_duration(request.timeout or 0)}"
    elif outcome.stopped == "idle":
        message = f"no output for {format_duration(request.idle_timeout or 0)} (idle timeout)"
    else:
        message = f"stopped: {cancel.reason if cancel else 'cancelled'}"
    if outcome.stopped == "cancelled" and (cancel is None or cancel.reason != DEADLINE):
        verdict.failures.append(Failure("run", message))
        return Outcome.ERROR
    verdict.failures.append(Failure("timeout", message))
    return Outcome.TIMEOUT


def _errored(number: int, message: str) -> Attempt:
    return Attempt(
        number, Outcome.ERROR, datetime.now(UTC), 0.0, failures=(Failure("run", message),)
    )
