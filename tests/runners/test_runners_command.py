"""`CommandRunner`: one attempt of a command test, from a suite file to an `Attempt`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assay.model import Outcome
from assay.runners import RunnerConfig
from assay.sandbox.reaper import COOKIE

if TYPE_CHECKING:
    from conftest import Runs


def env_of(stdout: str) -> dict[str, str]:
    """The variables printed by `env`."""
    return dict(line.split("=", 1) for line in stdout.splitlines())


class TestWorkDirectory:
    def test_files_are_created_before_the_command(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: reads files
                run: cat input.txt sub/dir/nested.txt
                files:
                  input.txt: "hello\\n"
                  sub/dir/nested.txt: "deep\\n"
                expect: {stdout: "hello\\ndeep\\n"}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.PASSED, attempt.failures

    @pytest.mark.parametrize("mode", ["0755", '"755"'], ids=["octal", "quoted"])
    def test_an_executable_script_runs_as_dot_slash(self, runs: Runs, mode: str) -> None:
        test = runs.one(
            f"""
            tests:
              - name: runs a script
                run: ./script.sh
                files:
                  script.sh:
                    content: "#!/bin/sh\\necho from the script\\n"
                    mode: {mode}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.PASSED, attempt.failures
        assert attempt.stdout is not None
        assert attempt.stdout.text == "from the script\n"

    def test_file_mode_is_applied(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: modes
                run: stat -c '%a %n' plain.txt script.sh private.txt
                files:
                  plain.txt: ""
                  script.sh: {content: "", mode: 0755}
                  private.txt: {content: "", mode: 0600}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.stdout is not None
        lines = attempt.stdout.text.splitlines()
        assert lines[1:] == ["755 script.sh", "600 private.txt"]

    def test_every_attempt_starts_in_a_fresh_directory(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: litters
                run: ls -A; echo junk > junk.txt; mkdir -p d/e; touch d/e/f; echo x >> given.txt
                files: {given.txt: "original\\n"}
            """
        )
        attempts = runs.attempts(test, 3)
        for attempt in attempts:
            assert attempt.outcome is Outcome.PASSED, attempt.failures
            assert attempt.stdout is not None
            assert attempt.stdout.text == "given.txt\n"

    def test_an_attempt_that_leaves_nothing_still_gets_an_empty_directory(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: tidy
                run: ls -A
                expect: {stdout: {empty: true}}
            """
        )
        assert [a.outcome for a in runs.attempts(test, 3)] == [Outcome.PASSED] * 3

    def test_work_directories_are_removed_after_the_attempts(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: litters
                run: mkdir -p a/b && touch a/b/c && chmod 500 a/b
            """
        )
        runs.attempts(test, 2)
        assert [p for p in runs.runs.glob("*/*") if p.is_dir() and any(p.iterdir())] == []

    def test_relative_cwd_is_created_inside_the_work_directory(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: in a subdirectory
                cwd: sub/dir
                run: pwd -P; cat ../../top.txt
                files: {top.txt: "at the top\\n"}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.PASSED, attempt.failures
        assert attempt.stdout is not None
        where, top = attempt.stdout.text.splitlines()
        assert where.endswith("/sub/dir")
        assert Path(where).resolve().is_relative_to(runs.runs.resolve())
        assert top == "at the top"

    def test_absolute_cwd_is_used_as_is(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: in the suite directory
                cwd: ${{ suite.dir }}
                run: pwd -P
            """
        )
        attempt = runs.attempt(test)
        assert attempt.stdout is not None
        assert attempt.stdout.text == f"{runs.root.resolve()}\n"

    def test_missing_absolute_cwd_names_the_directory(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: nowhere
                cwd: /nonexistent/assay/dir
                run: "true"
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.ERROR
        assert "/nonexistent/assay/dir" in attempt.failures[0].message


class TestEnvironment:
    def test_defaults_are_no_color_and_dumb_terminal(
        self, runs: Runs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TERM", "xterm-256color")
        monkeypatch.delenv("NO_COLOR", raising=False)
        attempt = runs.attempt(runs.one("tests: [{name: env, run: [env]}]"))
        assert attempt.stdout is not None
        variables = env_of(attempt.stdout.text)
        assert variables["NO_COLOR"] == "1"
        assert variables["TERM"] == "dumb"

    def test_the_test_env_overrides_the_defaults(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: env
                run: [env]
                env: {TERM: vt100, NO_COLOR: "0", EXTRA: "with spaces and $dollar"}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.stdout is not None
        variables = env_of(attempt.stdout.text)
        assert variables["TERM"] == "vt100"
        assert variables["NO_COLOR"] == "0"
        assert variables["EXTRA"] == "with spaces and $dollar"

    def test_the_environment_is_inherited_by_default(
        self, runs: Runs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("RUNNER_TEST_INHERITED", "from the parent")
        attempt = runs.attempt(runs.one("tests: [{name: env, run: [env]}]"))
        assert attempt.stdout is not None
        assert env_of(attempt.stdout.text)["RUNNER_TEST_INHERITED"] == "from the parent"

    def test_without_inheritance_only_path_defaults_and_cookie_remain(
        self, runs: Runs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("RUNNER_TEST_INHERITED", "from the parent")
        test = runs.one(
            """
            tests:
              - name: env
                run: [env]
                inherit_env: false
            """
        )
        attempt = runs.attempt(test)
        assert attempt.stdout is not None
        variables = env_of(attempt.stdout.text)
        assert set(variables) == {"PATH", "NO_COLOR", "TERM", COOKIE}
        assert variables["PATH"] == os.environ["PATH"]
        assert (variables["NO_COLOR"], variables["TERM"]) == ("1", "dumb")

    def test_without_inheritance_the_test_env_still_applies(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: env
                run: [env]
                inherit_env: false
                env: {OWN: mine, TERM: null}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.stdout is not None
        assert set(env_of(attempt.stdout.text)) == {"PATH", "NO_COLOR", "OWN", COOKIE}

    def test_null_unsets_inherited_and_default_variables(
        self, runs: Runs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("RUNNER_TEST_INHERITED", "from the parent")
        test = runs.one(
            """
            tests:
              - name: env
                run: [env]
                env: {RUNNER_TEST_INHERITED: null, NO_COLOR: null}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.stdout is not None
        variables = env_of(attempt.stdout.text)
        assert "RUNNER_TEST_INHERITED" not in variables
        assert "NO_COLOR" not in variables
        assert variables["TERM"] == "dumb"

    def test_suite_defaults_and_test_env_merge(self, runs: Runs) -> None:
        test = runs.one(
            """
            defaults: {env: {FROM_DEFAULTS: d, BOTH: defaults}}
            tests:
              - name: env
                run: [env]
                env: {BOTH: test}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.stdout is not None
        variables = env_of(attempt.stdout.text)
        assert (variables["FROM_DEFAULTS"], variables["BOTH"]) == ("d", "test")


class TestStreams:
    def test_stdin_is_given_to_the_command(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: reads stdin
                run: [cat]
                stdin: "line one\\nline two\\n"
                expect: {stdout: "line one\\nline two\\n"}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.PASSED, attempt.failures

    def test_without_stdin_the_command_reads_nothing(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: reads nothing
                run: [cat]
                timeout: 10s
                expect: {stdout: {empty: true}}
            """
        )
        assert runs.attempt(test).outcome is Outcome.PASSED

    def test_stdout_and_stderr_are_captured_apart(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: both
                run: echo out; echo err >&2
                expect: {stdout: "out\\n", stderr: "err\\n"}
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.PASSED, attempt.failures
        assert attempt.stdout is not None
        assert attempt.stderr is not None
        assert (attempt.stdout.text, attempt.stderr.text) == ("out\n", "err\n")
        # The output files are reused between tests, so no path outlives the attempt.
        assert attempt.stdout.path is None
        assert attempt.workdir is None


class TestVerdicts:
    def test_a_failed_expectation_fails(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: wrong code
                run: exit 3
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.FAILED
        assert attempt.exit_code == 3
        assert [f.expectation for f in attempt.failures] == ["exit"]

    def test_a_crash_fails_naming_the_signal(self, runs: Runs) -> None:
        attempt = runs.attempt(runs.one("tests: [{name: crash, run: kill -SEGV $$}]"))
        assert attempt.outcome is Outcome.FAILED
        assert attempt.signal == "SIGSEGV"
        assert attempt.exit_code is None
        assert "SIGSEGV" in attempt.failures[0].message

    def test_an_expected_signal_passes(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: crash
                run: kill -SEGV $$
                expect: {signal: SIGSEGV}
            """
        )
        assert runs.attempt(test).outcome is Outcome.PASSED

    def test_timeout_is_a_timeout_with_a_message(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: too slow
                run: sleep 30
                timeout: 300ms
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.TIMEOUT
        [failure] = attempt.failures
        assert failure.expectation == "timeout"
        assert failure.message == "timed out after 300ms"

    def test_run_wide_timeout_applies_when_the_test_has_none(self, runs: Runs) -> None:
        test = runs.one("tests: [{name: too slow, run: sleep 30}]")
        attempt = runs.attempt(test, RunnerConfig(grace=0.2, timeout=0.3))
        assert attempt.outcome is Outcome.TIMEOUT
        assert attempt.failures[0].message == "timed out after 300ms"

    def test_idle_timeout_is_a_timeout_with_a_message(self, runs: Runs) -> None:
        test = runs.one(
            """
            tests:
              - name: goes quiet
                run: echo once; sleep 30
                idle_timeout: 300ms
            """
        )
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.TIMEOUT
        assert attempt.failures[0].message == "no output for 300ms (idle timeout)"
        assert attempt.stdout is not None
        assert attempt.stdout.text == "once\n"

    @pytest.mark.parametrize(
        "run",
        ["[no-such-program-for-assay]", "[./missing.sh]"],
        ids=["by-name", "by-path"],
    )
    def test_missing_program_is_an_error(self, runs: Runs, run: str) -> None:
        test = runs.one(f"tests: [{{name: missing, run: {run}}}]")
        attempt = runs.attempt(test)
        assert attempt.outcome is Outcome.ERROR
        [failure] = attempt.failures
        assert failure.expectation == "run"
        assert "No such file or directory" in failure.message
        assert attempt.exit_code is None


class TestSnapshots:
    SUITE = """
        tests:
          - name: prints a greeting
            run: echo "hello ${{ vars.who }}"; echo "to stderr" >&2
            expect:
              stdout: {snapshot: true}
              stderr: {snapshot: true}
          - name: named snapshot
            run: echo named
            expect: {stdout: {snapshot: greeting.txt}}
          - name: makes a file
            run: echo made > out.txt
            expect: {files: {out.txt: {snapshot: true}}}
        """

    def suite(self, who: str) -> str:
        return "vars: {who: " + who + "}\n" + self.SUITE.replace("\n        ", "\n")

    def test_update_writes_beside_the_suite(self, runs: Runs) -> None:
        update = RunnerConfig(grace=0.2, update_snapshots=True)
        tests = runs.load(self.suite("world"), name="cli.assay.yaml")
        attempts = [runs.attempt(test, update) for test in tests]
        assert [a.outcome for a in attempts] == [Outcome.PASSED] * 3
        directory = runs.root / "__snapshots__" / "cli"
        assert sorted(p.name for p in directory.iterdir()) == [
            "greeting.txt",
            "makes-a-file.out.txt",
            "prints-a-greeting.stderr",
            "prints-a-greeting.stdout",
        ]
        assert (directory / "prints-a-greeting.stdout").read_text() == "hello world\n"
        assert (directory / "prints-a-greeting.stderr").read_text() == "to stderr\n"
        assert (directory / "greeting.txt").read_text() == "named\n"
        assert (directory / "makes-a-file.out.txt").read_text() == "made\n"
        assert any("snapshot written" in note for note in attempts[0].notes)

    def test_written_snapshots_then_pass_and_catch_changes(self, runs: Runs) -> None:
        update = RunnerConfig(grace=0.2, update_snapshots=True)
        [first, *_] = runs.load(self.suite("world"), name="cli.assay.yaml")
        runs.attempt(first, update)
        assert runs.attempt(first).outcome is Outcome.PASSED
        [changed, *_] = runs.load(self.suite("moon"), name="cli.assay.yaml")
        attempt = runs.attempt(changed)
        assert attempt.outcome is Outcome.FAILED
        [failure] = attempt.failures
        assert failure.expectation == "stdout.snapshot"
        assert failure.diff is not None
        assert "+hello moon" in failure.diff

    def test_a_missing_snapshot_fails_without_update(self, runs: Runs) -> None:
        [first, *_] = runs.load(self.suite("world"), name="cli.assay.yaml")
        attempt = runs.attempt(first)
        assert attempt.outcome is Outcome.FAILED
        assert "does not exist" in attempt.failures[0].message
        assert not (runs.root / "__snapshots__").exists()

    @pytest.mark.parametrize(
        ("file_name", "stem"),
        [("cli.assay.yaml", "cli"), ("cli.assay.yml", "cli"), ("plain.yaml", "plain")],
        ids=["assay-yaml", "assay-yml", "yaml"],
    )
    def test_the_directory_is_named_after_the_suite_stem(
        self, runs: Runs, file_name: str, stem: str
    ) -> None:
        update = RunnerConfig(grace=0.2, update_snapshots=True)
        test = runs.one(
            "tests: [{name: snap, run: echo hi, expect: {stdout: {snapshot: true}}}]",
            name=file_name,
        )
        runs.attempt(test, update)
        assert (runs.root / "__snapshots__" / stem / "snap.stdout").read_text() == "hi\n"
