"""Loading valid suite files: every key of the format and how it reaches `CommandTest`."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from assay import spec
from assay.model import (
    ExitExpectation,
    Expectations,
    FileExpectation,
    FileSpec,
    Limits,
    Location,
    Matcher,
    MatcherKind,
)


def test_minimal_suite_has_the_documented_defaults(suites, tmp_path: Path) -> None:
    test = suites.one(
        """
        tests:
          - name: says hi
            run: echo hi
        """
    )
    assert test.suite == "suite"
    assert test.name == "says hi"
    assert test.id == "suite.assay.yaml::says hi"
    assert test.location == Location(Path("suite.assay.yaml"), 3, 5)
    assert test.suite_file == (tmp_path / "suite.assay.yaml").resolve()
    assert test.run == "echo hi"
    assert test.argv == ("sh", "-c", "echo hi")
    assert test.stdin is None
    assert test.env == ()
    assert test.inherit_env is True
    assert test.cwd is None
    assert test.files == ()
    assert test.timeout is None
    assert test.idle_timeout is None
    assert test.retries == 0
    assert test.needs == ()
    assert test.tags == frozenset()
    assert test.skip is None
    assert test.strip_ansi is False
    assert test.limits == Limits()
    assert test.expect == Expectations()
    assert test.expect.exit == ExitExpectation(frozenset({0}))


def test_suite_key_names_the_suite(suites) -> None:
    test = suites.one(
        """
        suite: grep basics
        tests:
          - run: grep --version
        """
    )
    assert test.suite == "grep basics"


@pytest.mark.parametrize(
    ("file_name", "suite"),
    [
        ("cli.assay.yaml", "cli"),
        ("cli.assay.yml", "cli"),
        ("named-anything.yaml", "named-anything"),
    ],
    ids=["yaml", "yml", "other-name"],
)
def test_suite_name_defaults_to_the_file_name(suites, file_name: str, suite: str) -> None:
    tests = suites.load("tests:\n  - run: 'true'\n", name=file_name)
    assert [t.suite for t in tests] == [suite]


def test_tests_keep_file_order_and_locations(suites) -> None:
    tests = suites.load(
        """
        tests:
          - name: first
            run: "true"

          - name: second
            run: "true"
          -   name: third
              run: "true"
        """
    )
    assert [(t.name, t.location.line, t.location.column) for t in tests] == [
        ("first", 3, 5),
        ("second", 6, 5),
        ("third", 8, 7),
    ]


@pytest.mark.parametrize(
    ("run", "expected_run", "argv"),
    [
        ("echo hi | tr a-z A-Z", "echo hi | tr a-z A-Z", ("sh", "-c", "echo hi | tr a-z A-Z")),
        ("[grep, -n, needle, input.txt]", ("grep", "-n", "needle", "input.txt"), None),
        ("[printf, '%s\\n', 1, true]", ("printf", "%s\\n", "1", "true"), None),
        ("[ls]", ("ls",), None),
    ],
    ids=["string-runs-through-sh", "list-is-argv", "list-scalars-as-written", "one-word-list"],
)
def test_run_string_or_list(suites, run: str, expected_run: object, argv: object) -> None:
    test = suites.one(f"tests:\n  - run: {run}\n")
    assert test.run == expected_run
    assert test.argv == (argv or expected_run)


@pytest.mark.parametrize(
    ("run", "name"),
    [
        ("echo hello", "echo hello"),
        ("[grep, -c, x, a b.txt]", "grep -c x a b.txt"),
        ("'echo ${{ vars.word }}'", "echo needle"),
    ],
    ids=["string", "list-joined", "interpolated"],
)
def test_name_defaults_to_the_command(suites, run: str, name: str) -> None:
    test = suites.one(f"vars: {{word: needle}}\ntests:\n  - run: {run}\n")
    assert test.name == name


def test_numbers_and_booleans_are_read_as_written(suites) -> None:
    test = suites.one(
        """
        vars: {n: 42, f: 1.50, yes: true}
        tests:
          - name: 123
            run: [echo, "${{ vars.n }}", "${{ vars.f }}", "${{ vars.yes }}"]
            stdin: 7
        """
    )
    assert test.name == "123"
    assert test.run == ("echo", "42", "1.50", "true")
    assert test.stdin == "7"


def test_stdin_is_passed_as_written(suites) -> None:
    test = suites.one(
        """
        tests:
          - run: cat
            stdin: |
              line one
              line two
        """
    )
    assert test.stdin == "line one\nline two\n"


class TestInterpolation:
    """`${{ vars.x }}`, `${{ env.X }}` and `${{ suite.* }}`; shell syntax is left alone."""

    def test_vars_env_and_suite_facts(self, suites, tmp_path: Path) -> None:
        test = suites.one(
            """
            suite: tour
            vars: {word: needle, home: "${{ env.HOME }}/x", where: "${{ suite.dir }}/data"}
            tests:
              - run: >-
                  echo ${{ vars.word }} ${{env.GREETING}} ${{ vars.home }} ${{ vars.where }}
                  ${{ suite.name }} ${{ suite.file }}
            """
        )
        suite_file = (tmp_path / "suite.assay.yaml").resolve()
        assert test.run == (
            f"echo needle hello /home/ada/x {suite_file.parent}/data tour {suite_file}"
        )

    def test_suite_name_defaults_to_the_file_name(self, suites) -> None:
        test = suites.one("tests:\n  - run: echo ${{ suite.name }}\n")
        assert test.run == "echo suite"

    def test_an_empty_environment_variable_is_set(self, suites) -> None:
        test = suites.one("tests:\n  - run: echo [${{ env.EMPTY }}]\n")
        assert test.run == "echo []"

    def test_env_comes_from_the_process_environment_by_default(
        self, suites, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ASSAY_SPEC_TEST_VALUE", "from-os")
        path = suites.write("tests:\n  - run: echo ${{ env.ASSAY_SPEC_TEST_VALUE }}\n")
        [test] = spec.load([path], cwd=suites.root)
        assert test.run == "echo from-os"

    @pytest.mark.parametrize(
        "text",
        [
            "$HOME",
            "${X}",
            "${X:-default}",
            "$(pwd)",
            "`date`",
            "$$",
            "${#X}",
            "{{ not.ours }}",
            "${ {x} }",
        ],
        ids=[
            "dollar-name",
            "braces",
            "default",
            "command-sub",
            "backticks",
            "pid",
            "length",
            "double-braces",
            "spaced-braces",
        ],
    )
    def test_shell_syntax_is_untouched(self, suites, text: str) -> None:
        test = suites.one(f"tests:\n  - run: [sh, -c, '{text}']\n")
        assert test.run == ("sh", "-c", text)

    def test_double_dollar_escapes_the_opener(self, suites) -> None:
        test = suites.one(
            """
            vars: {word: needle}
            tests:
              - run: echo '$${{ vars.word }}' ${{ vars.word }} '$${{ anything at all }}'
                expect:
                  stdout: "$${{ vars.word }} needle\\n"
            """
        )
        assert test.run == "echo '${{ vars.word }}' needle '${{ anything at all }}'"
        assert test.expect.stdout == (Matcher(MatcherKind.EXACT, "${{ vars.word }} needle\n"),)

    def test_everywhere_a_string_is_read(self, suites) -> None:
        test = suites.one(
            """
            vars: {w: word, f: out.txt}
            tests:
              - name: "test ${{ vars.w }}"
                run: "true"
                stdin: "${{ vars.w }}"
                env: {W: "${{ vars.w }}"}
                cwd: "d-${{ vars.w }}"
                tags: ["t-${{ vars.w }}"]
                skip: "because ${{ vars.w }}"
                files:
                  a.txt: "${{ vars.w }}"
                  b.txt: {content: "${{ vars.w }}"}
                expect:
                  stdout:
                    - "${{ vars.w }}"
                    - contains: "${{ vars.w }}"
                    - not_contains: "no ${{ vars.w }}"
                    - matches: "^${{ vars.w }}$"
                    - lines: ["${{ vars.w }}"]
                    - json: {key: "${{ vars.w }}", list: ["${{ vars.w }}", 1]}
                  files:
                    out.txt: "${{ vars.w }}"
            """
        )
        assert test.name == "test word"
        assert test.stdin == "word"
        assert test.env == (("W", "word"),)
        assert test.cwd == "d-word"
        assert test.tags == frozenset({"t-word"})
        assert test.skip == "because word"
        assert test.files == (FileSpec("a.txt", "word"), FileSpec("b.txt", "word"))
        assert [m.value for m in test.expect.stdout] == [
            "word",
            "word",
            "no word",
            "^word$",
            ("word",),
            {"key": "word", "list": ["word", 1]},
        ]
        assert test.expect.files == (
            FileExpectation("out.txt", (Matcher(MatcherKind.EXACT, "word"),)),
        )


class TestDefaults:
    """`defaults` apply to every test; scalars are replaced, env/tags/limits merged."""

    SUITE = """
        defaults:
          timeout: 5s
          idle_timeout: 250ms
          inherit_env: false
          env: {LC_ALL: C, STAGE: test, KEEP: "1"}
          cwd: build
          retries: 1
          tags: [base, shared]
          strip_ansi: true
          limits: {open_files: 256, core: 0}
        tests:
          - name: plain
            run: "true"
          - name: overrides
            run: "true"
            timeout: 1m30s
            idle_timeout: 2
            inherit_env: true
            env: {STAGE: null, EXTRA: x, LC_ALL: POSIX}
            cwd: .
            retries: 0
            tags: [smoke, base]
            strip_ansi: false
            limits: {open_files: 64, memory: 1GiB, cpu: 90s}
        """

    def test_a_test_gets_every_default(self, suites) -> None:
        plain = suites.load(self.SUITE)[0]
        assert plain.timeout == 5.0
        assert plain.idle_timeout == 0.25
        assert plain.inherit_env is False
        assert plain.env == (("LC_ALL", "C"), ("STAGE", "test"), ("KEEP", "1"))
        assert plain.cwd == "build"
        assert plain.retries == 1
        assert plain.tags == frozenset({"base", "shared"})
        assert plain.strip_ansi is True
        assert plain.limits == Limits(open_files=256, core_bytes=0)

    def test_a_test_overrides_or_merges_them(self, suites) -> None:
        overrides = suites.load(self.SUITE)[1]
        assert overrides.timeout == 90.0
        assert overrides.idle_timeout == 2.0
        assert overrides.inherit_env is True
        # null unsets a default; order is that of first definition.
        assert overrides.env == (
            ("LC_ALL", "POSIX"),
            ("STAGE", None),
            ("KEEP", "1"),
            ("EXTRA", "x"),
        )
        assert overrides.cwd == "."
        assert overrides.retries == 0
        assert overrides.tags == frozenset({"base", "shared", "smoke"})
        assert overrides.strip_ansi is False
        assert overrides.limits == Limits(
            cpu_seconds=90, memory_bytes=1024**3, open_files=64, core_bytes=0
        )

    def test_null_for_a_variable_with_no_default_still_unsets_it(self, suites) -> None:
        test = suites.one("tests:\n  - run: env\n    env: {HOME: null, A: '1'}\n")
        assert test.env == (("HOME", None), ("A", "1"))


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("5s", 5.0),
        ("250ms", 0.25),
        ("1m30s", 90.0),
        ("2.5s", 2.5),
        ("1h", 3600.0),
        ("3", 3.0),
        ("0.5", 0.5),
        ("'7'", 7.0),
    ],
    ids=["seconds", "millis", "compound", "fraction", "hours", "int", "float", "quoted-number"],
)
def test_timeouts_are_durations(suites, written: str, seconds: float) -> None:
    test = suites.one(
        f"tests:\n  - run: 'true'\n    timeout: {written}\n    idle_timeout: {written}\n"
    )
    assert test.timeout == seconds
    assert test.idle_timeout == seconds


def test_retries_needs_and_tags(suites) -> None:
    tests = suites.load(
        """
        tests:
          - name: build
            run: "true"
            tags: smoke
          - name: check
            run: "true"
            retries: 3
            needs: build
            tags: [smoke, slow]
          - name: report
            run: "true"
            needs: [build, check]
        """
    )
    assert [(t.retries, t.needs, t.tags) for t in tests] == [
        (0, (), frozenset({"smoke"})),
        (3, ("build",), frozenset({"smoke", "slow"})),
        (0, ("build", "check"), frozenset()),
    ]


def test_needs_may_point_forward(suites) -> None:
    tests = suites.load(
        """
        tests:
          - name: late
            run: "true"
            needs: [early]
          - name: early
            run: "true"
        """
    )
    assert tests[0].needs == ("early",)


@pytest.mark.parametrize(
    ("written", "skip"),
    [
        ("true", "skipped"),
        ("false", None),
        ("waiting for a fix", "waiting for a fix"),
        ("'true'", "true"),
        ("42", "42"),
    ],
    ids=["true", "false", "reason", "quoted-true-is-a-reason", "number-reason"],
)
def test_skip(suites, written: str, skip: str | None) -> None:
    test = suites.one(f"tests:\n  - run: 'false'\n    skip: {written}\n")
    assert test.skip == skip


def test_files_string_or_content_and_mode(suites) -> None:
    test = suites.one(
        """
        tests:
          - run: ./bin/tool
            files:
              input.txt: "hay\\nneedle\\n"
              nested/dir/data.csv: "a,b\\n"
              bin/tool:
                content: |
                  #!/bin/sh
                  echo hi
                mode: 0755
              quoted-mode: {content: x, mode: "644"}
              no-content: {mode: 0600}
              empty-mapping: {}
              number: 12
        """
    )
    assert test.files == (
        FileSpec("input.txt", "hay\nneedle\n"),
        FileSpec("nested/dir/data.csv", "a,b\n"),
        FileSpec("bin/tool", "#!/bin/sh\necho hi\n", 0o755),
        FileSpec("quoted-mode", "x", 0o644),
        FileSpec("no-content", "", 0o600),
        FileSpec("empty-mapping", ""),
        FileSpec("number", "12"),
    )


def test_single_dot_segments_are_allowed(suites) -> None:
    test = suites.one(
        """
        tests:
          - run: "true"
            cwd: ./sub/dir
            files: {./a/./b.txt: x}
        """
    )
    assert test.cwd == "./sub/dir"
    assert test.files == (FileSpec("a/b.txt", "x"),)


def test_an_absolute_cwd_is_allowed(suites) -> None:
    test = suites.one("tests:\n  - run: pwd\n    cwd: /tmp\n")
    assert test.cwd == "/tmp"


def test_limits(suites) -> None:
    test = suites.one(
        """
        tests:
          - run: "true"
            limits: {cpu: 1.4, memory: 512MiB, open_files: 32, core: 0}
        """
    )
    assert test.limits == Limits(
        cpu_seconds=1, memory_bytes=512 * 1024**2, open_files=32, core_bytes=0
    )
    assert test.limits.any()


@pytest.mark.parametrize(
    ("cpu", "seconds"),
    [("100ms", 1), ("2.6s", 3), ("1m", 60), ("3", 3)],
    ids=["rounded-up-to-one", "rounded", "minutes", "bare-number"],
)
def test_cpu_limit_is_whole_seconds(suites, cpu: str, seconds: int) -> None:
    test = suites.one(f"tests:\n  - run: 'true'\n    limits: {{cpu: {cpu}}}\n")
    assert test.limits.cpu_seconds == seconds


@pytest.mark.parametrize(
    ("memory", "size"),
    [("1024", 1024), ("64k", 65536), ("1G", 1024**3), ("1GB", 10**9), ("'10 MiB'", 10 * 1024**2)],
    ids=["bytes", "k", "G", "GB", "spaced"],
)
def test_memory_limit_sizes(suites, memory: str, size: int) -> None:
    test = suites.one(f"tests:\n  - run: 'true'\n    limits: {{memory: {memory}}}\n")
    assert test.limits.memory_bytes == size


class TestExpect:
    """The `expect:` block."""

    @pytest.mark.parametrize(
        ("written", "exit_"),
        [
            ("0", ExitExpectation(frozenset({0}))),
            ("3", ExitExpectation(frozenset({3}))),
            ("[1, 2]", ExitExpectation(frozenset({1, 2}))),
            ("nonzero", ExitExpectation(nonzero=True)),
            ("any", None),
        ],
        ids=["zero", "code", "list", "nonzero", "any"],
    )
    def test_exit(self, suites, written: str, exit_: ExitExpectation | None) -> None:
        test = suites.one(f"tests:\n  - run: 'true'\n    expect: {{exit: {written}}}\n")
        assert test.expect.exit == exit_

    @pytest.mark.parametrize(
        ("written", "number"),
        [("SIGSEGV", 11), ("segv", 11), ("TERM", 15), ("9", 9), ("'9'", 9)],
        ids=["full-name", "lower-short", "short", "number", "quoted-number"],
    )
    def test_signal(self, suites, written: str, number: int) -> None:
        test = suites.one(f"tests:\n  - run: 'true'\n    expect: {{signal: {written}}}\n")
        assert test.expect.signal == number
        # Expecting a signal drops the default expectation of exit code 0.
        assert test.expect.exit is None

    def test_a_real_time_signal_number(self, suites) -> None:
        # Real-time signals have no name in Python's `signal.Signals`, but are valid numbers.
        number = signal.SIGRTMIN + 1
        test = suites.one(f"tests:\n  - run: 'true'\n    expect: {{signal: {number}}}\n")
        assert test.expect.signal == number

    def test_signal_with_an_explicit_exit(self, suites) -> None:
        test = suites.one("tests:\n  - run: 'true'\n    expect: {signal: KILL, exit: 1}\n")
        assert (test.expect.signal, test.expect.exit) == (9, ExitExpectation(frozenset({1})))

    def test_duration(self, suites) -> None:
        test = suites.one("tests:\n  - run: 'true'\n    expect: {duration: 1m}\n")
        assert test.expect.max_duration == 60.0

    def test_every_output_matcher(self, suites) -> None:
        test = suites.one(
            """
            tests:
              - run: "true"
                expect:
                  stdout:
                    - "exact\\n"
                    - contains: Usage
                      not_contains: error
                    - matches: '^-i, --ignore-case'
                    - empty: false
                    - lines: 3
                    - lines: [alpha, 2]
                    - json: {a: [1, {b: null}]}
                    - json: [1, 2]
                      path: $.items[*].id
                    - snapshot: true
                    - snapshot: help.txt
                  stderr: {empty: true}
            """
        )
        assert test.expect.stdout == (
            Matcher(MatcherKind.EXACT, "exact\n"),
            Matcher(MatcherKind.CONTAINS, "Usage"),
            Matcher(MatcherKind.NOT_CONTAINS, "error"),
            Matcher(MatcherKind.MATCHES, "^-i, --ignore-case"),
            Matcher(MatcherKind.EMPTY, False),
            Matcher(MatcherKind.LINES, 3),
            Matcher(MatcherKind.LINES, ("alpha", "2")),
            Matcher(MatcherKind.JSON, {"a": [1, {"b": None}]}),
            Matcher(MatcherKind.JSON, [1, 2], path="$.items[*].id"),
            Matcher(MatcherKind.SNAPSHOT, ""),
            Matcher(MatcherKind.SNAPSHOT, "help.txt"),
        )
        assert test.expect.stderr == (Matcher(MatcherKind.EMPTY, True),)

    @pytest.mark.parametrize(
        ("written", "value"),
        [("'plain text'", "plain text"), ("42", 42), ("true", True), ("null", None)],
        ids=["string", "number", "boolean", "null"],
    )
    def test_json_scalars(self, suites, written: str, value: object) -> None:
        test = suites.one(f"tests:\n  - run: 'true'\n    expect: {{stdout: {{json: {written}}}}}\n")
        assert test.expect.stdout == (Matcher(MatcherKind.JSON, value),)

    def test_json_merge_keys(self, suites) -> None:
        test = suites.one(
            """
            vars: {v: hi}
            tests:
              - run: "true"
                expect:
                  stdout:
                    json:
                      base: &base {x: 1, y: "${{ vars.v }}"}
                      merged: {<<: *base, z: 2}
            """
        )
        assert test.expect.stdout == (
            Matcher(
                MatcherKind.JSON,
                {"base": {"x": 1, "y": "hi"}, "merged": {"x": 1, "y": "hi", "z": 2}},
            ),
        )

    def test_files(self, suites) -> None:
        test = suites.one(
            """
            tests:
              - run: "true"
                expect:
                  files:
                    out/report.txt: {exists: true, contains: total}
                    gone.txt: {exists: false}
                    exact.txt: "content\\n"
                    table.csv: [{snapshot: true}, {lines: 2}]
            """
        )
        assert test.expect.files == (
            FileExpectation(
                "out/report.txt",
                (Matcher(MatcherKind.EXISTS, True), Matcher(MatcherKind.CONTAINS, "total")),
            ),
            FileExpectation("gone.txt", (Matcher(MatcherKind.EXISTS, False),)),
            FileExpectation("exact.txt", (Matcher(MatcherKind.EXACT, "content\n"),)),
            FileExpectation(
                "table.csv", (Matcher(MatcherKind.SNAPSHOT, ""), Matcher(MatcherKind.LINES, 2))
            ),
        )

    def test_empty_expect_is_the_default(self, suites) -> None:
        test = suites.one("tests:\n  - run: 'true'\n    expect: {}\n")
        assert test.expect == Expectations()


def test_description_is_accepted(suites) -> None:
    test = suites.one(
        """
        tests:
          - name: documented
            description: >
              Longer prose about the test.
            run: "true"
        """
    )
    assert test.name == "documented"


def test_a_utf8_bom_is_accepted(suites) -> None:
    tests = suites.load(b"\xef\xbb\xbftests:\n  - run: echo caf\xc3\xa9\n")
    assert [t.run for t in tests] == ["echo café"]


def test_several_files_in_order(suites) -> None:
    a = suites.write("tests:\n  - run: echo a\n", "b/a.assay.yaml")
    b = suites.write("tests:\n  - run: echo b1\n  - run: echo b2\n", "a/b.assay.yaml")
    tests = spec.load([a, b], cwd=suites.root, environ={})
    assert [t.id for t in tests] == [
        "b/a.assay.yaml::echo a",
        "a/b.assay.yaml::echo b1",
        "a/b.assay.yaml::echo b2",
    ]


def test_load_searches_directories(suites) -> None:
    suites.write("tests:\n  - run: echo two\n", "sub/two.assay.yaml")
    suites.write("tests:\n  - run: echo one\n", "one.assay.yml")
    suites.write("tests: 5\n", "sub/not-a-suite.yaml")
    tests = spec.load([Path(".")], cwd=suites.root, environ={})
    assert [t.id for t in tests] == ["one.assay.yml::echo one", "sub/two.assay.yaml::echo two"]


def test_a_file_outside_cwd_keeps_its_absolute_path(suites, tmp_path: Path) -> None:
    path = suites.write("tests:\n  - run: echo\n", "outside/x.assay.yaml")
    inside = tmp_path / "elsewhere"
    inside.mkdir()
    [test] = spec.load([path], cwd=inside, environ={})
    assert test.location.path == path.resolve()
