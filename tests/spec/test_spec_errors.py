"""Every mistake in a test file is reported as `path:line:col: message`, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay import spec
from assay.errors import SpecError, UserError

F = "suite.assay.yaml"


def case(id_: str, text: str, *problems: str) -> object:
    """One bad suite and the problems it must produce, in order."""
    return pytest.param(text, [f"{F}:{p}" for p in problems], id=id_)


SYNTAX = [
    case(
        "unclosed-flow-list",
        "tests: [\n",
        "2:1: YAML syntax error: did not find expected node content",
    ),
    case(
        "bad-indentation",
        "tests:\n  - run: echo\n   bad: indent\n",
        "3:4: YAML syntax error: did not find expected '-' indicator",
    ),
    case(
        "unterminated-quote",
        'tests:\n  - run: "echo\n',
        "3:1: YAML syntax error: found unexpected end of stream",
    ),
    case(
        "tab-indentation",
        "tests:\n\t- run: echo\n",
        "2:1: YAML syntax error: found character that cannot start any token",
    ),
]

EMPTY = [
    case("empty", "", "1:1: empty test file: expected a mapping with a 'tests' list"),
    case(
        "whitespace-only",
        "\n   \n\n",
        "1:1: empty test file: expected a mapping with a 'tests' list",
    ),
    case(
        "comments-only",
        "# a comment\n\n   # another\n",
        "1:1: empty test file: expected a mapping with a 'tests' list",
    ),
    case(
        "explicit-document-only",
        "---\n...\n",
        "1:1: empty test file: expected a mapping with a 'tests' list",
    ),
]

SUITE_SHAPE = [
    case("top-level-list", "- run: echo\n", "1:1: the suite must be a mapping, not a list"),
    case("top-level-string", "just text\n", "1:1: the suite must be a mapping, not a string"),
    case("tests-missing", "suite: x\n", "1:1: the suite has no 'tests' list"),
    case("tests-not-a-list", "tests: 5\n", "1:8: 'tests' must be a list, not a number"),
    case(
        "tests-a-mapping",
        "tests:\n  run: echo\n",
        "2:3: 'tests' must be a list, not a mapping",
    ),
    case("tests-null", "tests:\n", "1:7: 'tests' must be a list, not nothing (null)"),
    case("tests-empty", "tests: []\n", "1:8: 'tests' is empty: add at least one test"),
    case(
        "test-not-a-mapping",
        "tests:\n  - echo hi\n",
        "2:5: a test must be a mapping, not a string",
    ),
]

UNKNOWN_KEYS = [
    case(
        "top-level-typo",
        "tests:\n  - run: echo\nsuit: x\n",
        "3:1: unknown key 'suit' in the suite; did you mean 'suite'?",
    ),
    case(
        "top-level-unrelated",
        "tests:\n  - run: echo\nfixtures: {}\n",
        "3:1: unknown key 'fixtures' in the suite; expected one of: suite, defaults, vars,"
        " services, tests",
    ),
    case(
        "defaults-typo",
        "defaults: {timeot: 5s}\ntests:\n  - run: echo\n",
        "1:12: unknown key 'timeot' in defaults; did you mean 'timeout'?",
    ),
    case(
        "test-typo",
        "tests:\n  - run: echo\n    exepct: {}\n",
        "3:5: unknown key 'exepct' in a test; did you mean 'expect'?",
    ),
    case(
        "test-name-typo",
        "tests:\n  - nmae: x\n    run: echo\n",
        "2:5: unknown key 'nmae' in a test; did you mean 'name'?",
    ),
    case(
        "expect-typo",
        "tests:\n  - run: echo\n    expect:\n      exti: 0\n",
        "4:7: unknown key 'exti' in expect; did you mean 'exit'?",
    ),
    case(
        "expect-stdout-typo",
        "tests:\n  - run: echo\n    expect:\n      sdtout: x\n",
        "4:7: unknown key 'sdtout' in expect; did you mean 'stdout'?",
    ),
    case(
        "matcher-typo",
        "tests:\n  - run: echo\n    expect:\n      stdout: {contans: x}\n",
        "4:16: unknown key 'contans' in stdout; did you mean 'contains'?",
    ),
    case(
        "matcher-in-list-typo",
        "tests:\n  - run: echo\n    expect:\n      stderr:\n        - {machtes: x}\n",
        "5:12: unknown key 'machtes' in stderr; did you mean 'matches'?",
    ),
    case(
        "file-matcher-typo",
        "tests:\n  - run: echo\n    expect:\n      files:\n        out.txt: {exist: true}\n",
        "5:19: unknown key 'exist' in expect.files 'out.txt'; did you mean 'exists'?",
    ),
    case(
        "exists-on-stdout",
        "tests:\n  - run: echo\n    expect:\n      stdout: {exists: true}\n",
        "4:16: unknown key 'exists' in stdout; expected one of: contains, not_contains, "
        "matches, empty, lines, json, snapshot, path",
    ),
    case(
        "files-spec-typo",
        "tests:\n  - run: echo\n    files:\n      a.txt: {contnt: hi}\n",
        "4:15: unknown key 'contnt' in files 'a.txt'; did you mean 'content'?",
    ),
    case(
        "limits-unknown",
        "tests:\n  - run: echo\n    limits: {disk: 1}\n",
        "3:14: unknown key 'disk' in limits; expected one of: cpu, memory, open_files, core",
    ),
    case(
        "limits-typo",
        "tests:\n  - run: echo\n    limits: {memroy: 1G}\n",
        "3:14: unknown key 'memroy' in limits; did you mean 'memory'?",
    ),
]

WRONG_TYPES = [
    case(
        "suite-list",
        "suite: [x]\ntests:\n  - run: echo\n",
        "1:8: suite must be a string, not a list",
    ),
    case(
        "suite-boolean",
        "suite: true\ntests:\n  - run: echo\n",
        "1:8: suite must be a string, not a boolean; quote it",
    ),
    case(
        "defaults-number",
        "defaults: 3\ntests:\n  - run: echo\n",
        "1:11: defaults must be a mapping, not a number",
    ),
    case(
        "vars-list", "vars: [a]\ntests:\n  - run: echo\n", "1:7: vars must be a mapping, not a list"
    ),
    case(
        "var-value-mapping",
        "vars: {a: {b: c}}\ntests:\n  - run: echo\n",
        "1:11: vars.a must be a string, not a mapping",
    ),
    case(
        "name-list",
        "tests:\n  - name: [a]\n    run: echo\n",
        "2:11: name must be a string, not a list",
    ),
    case(
        "name-empty",
        "tests:\n  - name: '  '\n    run: echo\n",
        "2:11: name must not be empty",
    ),
    case(
        "run-number",
        "tests:\n  - run: 5\n",
        "2:10: run must be a command string or an argument list, not a number",
    ),
    case(
        "run-mapping",
        "tests:\n  - run: {cmd: ls}\n",
        "2:10: run must be a command string or an argument list, not a mapping",
    ),
    case(
        "run-null",
        "tests:\n  - run:\n    name: x\n",
        "2:9: run must be a command string or an argument list, not nothing (null)",
    ),
    case(
        "run-empty-list",
        "tests:\n  - run: []\n",
        "2:10: run: an empty argument list has no program to run",
    ),
    case("run-blank", "tests:\n  - run: '  '\n", "2:10: run: the command is empty"),
    case(
        "run-nested-list",
        "tests:\n  - run: [echo, [a]]\n",
        "2:17: each entry of run must be a string, not a list",
    ),
    case(
        "stdin-list",
        "tests:\n  - run: cat\n    stdin: [x]\n",
        "3:12: stdin must be a string, not a list",
    ),
    case(
        "env-list",
        "tests:\n  - run: env\n    env: [A]\n",
        "3:10: env must be a mapping, not a list",
    ),
    case(
        "env-value-list",
        "tests:\n  - run: env\n    env: {A: [1]}\n",
        "3:14: env.A must be a string, not a list",
    ),
    case(
        "env-name-with-equals",
        "tests:\n  - run: env\n    env: {'A=B': x}\n",
        "3:11: env: invalid variable name 'A=B'",
    ),
    case(
        "inherit-env-string",
        "tests:\n  - run: env\n    inherit_env: 'yes'\n",
        "3:18: inherit_env must be true or false, not a string",
    ),
    case(
        "strip-ansi-number",
        "defaults: {strip_ansi: 1}\ntests:\n  - run: env\n",
        "1:24: strip_ansi must be true or false, not a number",
    ),
    case(
        "cwd-number",
        "tests:\n  - run: pwd\n    cwd: 5\n",
        "3:10: cwd must be a string, not a number; quote it",
    ),
    case(
        "timeout-boolean",
        "tests:\n  - run: echo\n    timeout: true\n",
        "3:14: timeout must be a duration such as 5s, not a boolean",
    ),
    case(
        "timeout-list",
        "tests:\n  - run: echo\n    timeout: [5s]\n",
        "3:14: timeout must be a duration such as 5s, not a list",
    ),
    case(
        "retries-string",
        "tests:\n  - run: echo\n    retries: '2'\n",
        "3:14: retries must be a whole number, not a string",
    ),
    case(
        "retries-float",
        "tests:\n  - run: echo\n    retries: 1.5\n",
        "3:14: retries must be a whole number, not a number",
    ),
    case(
        "retries-negative",
        "tests:\n  - run: echo\n    retries: -1\n",
        "3:14: retries must be at least 0, not -1",
    ),
    case(
        "tags-mapping",
        "tests:\n  - run: echo\n    tags: {a: 1}\n",
        "3:11: tags must be a list of strings, not a mapping",
    ),
    case(
        "tags-null-entry",
        "tests:\n  - run: echo\n    tags: [a, ~]\n",
        "3:15: each entry of tags must be a string, not nothing (null)",
    ),
    case(
        "files-list",
        "tests:\n  - run: echo\n    files: [x]\n",
        "3:12: files must be a mapping, not a list",
    ),
    case(
        "file-content-list",
        "tests:\n  - run: echo\n    files: {a.txt: [x]}\n",
        "3:20: files 'a.txt' must be a string, not a list",
    ),
    case(
        "file-mode-not-octal",
        "tests:\n  - run: echo\n    files: {a: {mode: 999}}\n",
        "3:23: files mode must be an octal permission such as 0755, not '999'",
    ),
    case(
        "file-mode-word",
        "tests:\n  - run: echo\n    files: {a: {mode: rwx}}\n",
        "3:23: files mode must be an octal permission such as 0755, not 'rwx'",
    ),
    case(
        "needs-mapping",
        "tests:\n  - run: echo\n    needs: {a: b}\n",
        "3:12: needs must be a list of strings, not a mapping",
    ),
    case(
        "skip-list",
        "tests:\n  - run: echo\n    skip: [x]\n",
        "3:11: skip (a reason) must be a string, not a list",
    ),
    case(
        "expect-list",
        "tests:\n  - run: echo\n    expect: [x]\n",
        "3:13: expect must be a mapping, not a list",
    ),
    case(
        "stdout-null",
        "tests:\n  - run: echo\n    expect: {stdout: null}\n",
        "3:22: stdout must be a string, not nothing (null)",
    ),
    case(
        "contains-list",
        "tests:\n  - run: echo\n    expect: {stdout: {contains: [a]}}\n",
        "3:33: stdout.contains must be a string, not a list",
    ),
    case(
        "empty-string",
        "tests:\n  - run: echo\n    expect: {stdout: {empty: 'yes'}}\n",
        "3:30: stdout.empty must be true or false, not a string",
    ),
    case(
        "exists-string",
        "tests:\n  - run: echo\n    expect: {files: {a: {exists: 'no'}}}\n",
        "3:34: expect.files 'a'.exists must be true or false, not a string",
    ),
    case(
        "lines-mapping",
        "tests:\n  - run: echo\n    expect: {stdout: {lines: {a: 1}}}\n",
        "3:30: stdout.lines must be a line count or a list of lines, not a mapping",
    ),
    case(
        "lines-negative",
        "tests:\n  - run: echo\n    expect: {stdout: {lines: -2}}\n",
        "3:30: stdout.lines must be at least 0, not -2",
    ),
    case(
        "snapshot-false",
        "tests:\n  - run: echo\n    expect: {stdout: {snapshot: false}}\n",
        "3:33: stdout.snapshot: remove the key instead of setting it to false",
    ),
    case(
        "snapshot-path",
        "tests:\n  - run: echo\n    expect: {stderr: {snapshot: ../x.txt}}\n",
        "3:33: stderr.snapshot: a snapshot name is a plain file name, not '../x.txt'",
    ),
    case(
        "snapshot-hidden-name",
        "tests:\n  - run: echo\n    expect: {stderr: {snapshot: .hidden}}\n",
        "3:33: stderr.snapshot: a snapshot name is a plain file name, not '.hidden'",
    ),
    case(
        "path-without-json",
        "tests:\n  - run: echo\n    expect: {stdout: {contains: x, path: $.a}}\n",
        "3:36: 'path' in stdout only applies to a 'json' matcher",
    ),
    case(
        "expect-files-list",
        "tests:\n  - run: echo\n    expect: {files: [a]}\n",
        "3:21: expect.files must be a mapping, not a list",
    ),
    case(
        "duration-boolean",
        "tests:\n  - run: echo\n    expect: {duration: false}\n",
        "3:24: expect.duration must be a duration such as 5s, not a boolean",
    ),
    case(
        "open-files-zero",
        "tests:\n  - run: echo\n    limits: {open_files: 0}\n",
        "3:26: limits.open_files must be at least 1, not 0",
    ),
    case(
        "open-files-string",
        "tests:\n  - run: echo\n    limits: {open_files: many}\n",
        "3:26: limits.open_files must be a whole number, not a string",
    ),
]

ACTIONS = [
    case(
        "no-action",
        "tests:\n  - name: nothing to do\n    expect: {exit: 0}\n",
        "2:5: the test has no action: add 'run' (one of run, http, browser, sql, pytest)",
    ),
    case(
        "run-and-http",
        "tests:\n  - run: echo\n    http: {get: /}\n",
        "3:5: the test has 2 actions (run, http); a test does exactly one",
    ),
    case(
        "three-actions",
        "tests:\n  - sql: select 1\n    run: echo\n    pytest: tests/\n",
        "2:5: the test has 3 actions (run, sql, pytest); a test does exactly one",
    ),
    case(
        "http-alone",
        "tests:\n  - name: api\n    http: {get: /health}\n",
        "3:5: test kind 'http' is not available in this version of Assay",
    ),
    case(
        "browser-alone",
        "tests:\n  - browser: [{goto: /}]\n",
        "2:5: test kind 'browser' is not available in this version of Assay",
    ),
    case(
        "sql-alone",
        "tests:\n  - sql: select 1\n",
        "2:5: test kind 'sql' is not available in this version of Assay",
    ),
    case(
        "pytest-unknown-key",
        "tests:\n  - pytest: {args: tests/, pyhton: x}\n",
        "2:28: unknown key 'pyhton' in pytest; did you mean 'python'?",
    ),
]

DUPLICATES = [
    case(
        "duplicate-test-names",
        "tests:\n  - name: a\n    run: echo\n  - name: b\n    run: echo\n"
        "  - name: a\n    run: ls\n",
        "6:5: duplicate test name 'a' (first at line 2)",
    ),
    case(
        "duplicate-default-names",
        "tests:\n  - run: echo hi\n  - run: [echo, hi]\n",
        "3:5: duplicate test name 'echo hi' (first at line 2)",
    ),
    case(
        "duplicate-key-in-test",
        "tests:\n  - name: a\n    run: echo\n    run: ls\n",
        "4:5: duplicate key 'run' (first at line 3)",
    ),
    case(
        "duplicate-top-level-key",
        "tests:\n  - run: echo\ntests:\n  - run: ls\n",
        "3:1: duplicate key 'tests' (first at line 1)",
    ),
    case(
        "duplicate-key-in-flow-mapping",
        "tests:\n  - run: echo\n    expect: {exit: 0, exit: 1}\n",
        "3:23: duplicate key 'exit' (first at line 3)",
    ),
]

NEEDS = [
    case(
        "needs-unknown-with-suggestion",
        "tests:\n  - name: build\n    run: make\n  - name: test\n    run: make test\n"
        "    needs: [biuld]\n",
        "4:5: needs 'biuld': no test of that name in this suite; did you mean 'build'?",
    ),
    case(
        "needs-unknown-without-suggestion",
        "tests:\n  - name: build\n    run: make\n    needs: deploy-to-prod\n",
        "2:5: needs 'deploy-to-prod': no test of that name in this suite",
    ),
    case(
        "needs-itself",
        "tests:\n  - name: self\n    run: echo\n    needs: [self]\n",
        "2:5: test 'self' needs itself",
    ),
    case(
        "cycle-of-two",
        "tests:\n  - name: a\n    run: echo\n    needs: [b]\n  - name: b\n    run: echo\n"
        "    needs: [a]\n",
        "2:5: needs form a cycle: 'a' -> 'b' -> 'a'",
    ),
    case(
        "cycle-of-three",
        "tests:\n  - name: x\n    run: echo\n    needs: [z]\n  - name: y\n    run: echo\n"
        "    needs: [x]\n  - name: z\n    run: echo\n    needs: [y]\n",
        "2:5: needs form a cycle: 'x' -> 'z' -> 'y' -> 'x'",
    ),
    case(
        "needs-an-invalid-test-is-not-unknown",
        "tests:\n  - name: broken\n    run: 5\n"
        "  - name: user\n    run: echo\n    needs: [broken]\n",
        "3:10: run must be a command string or an argument list, not a number",
    ),
]

REGEX_AND_PATHS = [
    case(
        "invalid-regex",
        "tests:\n  - run: echo\n    expect: {stdout: {matches: '(unclosed'}}\n",
        "3:32: invalid regular expression '(unclosed': missing ), unterminated subpattern "
        "at position 0",
    ),
    case(
        "invalid-regex-in-file",
        "tests:\n  - run: echo\n    expect:\n      files:\n        a: {matches: '*x'}\n",
        "5:22: invalid regular expression '*x': nothing to repeat at position 0",
    ),
    case(
        "absolute-file",
        "tests:\n  - run: echo\n    files: {/etc/passwd: x}\n",
        "3:13: files: '/etc/passwd' must be a relative path inside the work directory",
    ),
    case(
        "dotdot-file",
        "tests:\n  - run: echo\n    files: {../up.txt: x}\n",
        "3:13: files: '../up.txt' must be a relative path inside the work directory",
    ),
    case(
        "dotdot-inside-file",
        "tests:\n  - run: echo\n    files: {a/../../b: x}\n",
        "3:13: files: 'a/../../b' must be a relative path inside the work directory",
    ),
    case(
        "dotdot-file-with-mapping",
        "tests:\n  - run: echo\n    files: {../x: {content: x}}\n",
        "3:13: files: '../x' must be a relative path inside the work directory",
    ),
    case(
        "absolute-expected-file",
        "tests:\n  - run: echo\n    expect: {files: {/abs: {exists: true}}}\n",
        "3:22: expect.files: '/abs' must be a relative path inside the work directory",
    ),
    case(
        "dotdot-expected-file",
        "tests:\n  - run: echo\n    expect: {files: {../x: {exists: true}}}\n",
        "3:22: expect.files: '../x' must be a relative path inside the work directory",
    ),
    case(
        "dotdot-cwd",
        "tests:\n  - run: echo\n    cwd: ../escape\n",
        "3:10: cwd: '../escape' must be a relative path inside the work directory",
    ),
    case(
        "jsonpath-without-dollar",
        "tests:\n  - run: echo\n    expect: {stdout: {json: 1, path: a.b}}\n",
        "3:38: invalid JSONPath 'a.b': expected e.g. $.items[0].name",
    ),
    case(
        "jsonpath-recursive-descent",
        "tests:\n  - run: echo\n    expect: {stdout: {json: 1, path: $..a}}\n",
        "3:38: invalid JSONPath '$..a': expected e.g. $.items[0].name",
    ),
    case(
        "jsonpath-unclosed-index",
        "tests:\n  - run: echo\n    expect: {stdout: {json: 1, path: '$.a[0'}}\n",
        "3:38: invalid JSONPath '$.a[0': expected e.g. $.items[0].name",
    ),
]

UNITS = [
    case(
        "duration-unknown-unit",
        "tests:\n  - run: echo\n    timeout: 5 parsecs\n",
        "3:14: timeout: invalid duration '5 parsecs': use seconds or the units ms, s, m, h, d, w "
        "(e.g. 5s, 250ms, 1m30s)",
    ),
    case(
        "duration-zero",
        "tests:\n  - run: echo\n    timeout: 0s\n",
        "3:14: timeout: invalid duration '0s': must be greater than zero",
    ),
    case(
        "duration-negative",
        "tests:\n  - run: echo\n    idle_timeout: -1\n",
        "3:19: idle_timeout: invalid duration -1: must be greater than zero",
    ),
    case(
        "duration-unit-without-number",
        "defaults: {timeout: s}\ntests:\n  - run: echo\n",
        "1:21: timeout: invalid duration 's': use seconds or the units ms, s, m, h, d, w "
        "(e.g. 5s, 250ms, 1m30s)",
    ),
    case(
        "expect-duration",
        "tests:\n  - run: echo\n    expect: {duration: 1m30}\n",
        "3:24: expect.duration: invalid duration '1m30': use seconds or the units "
        "ms, s, m, h, d, w (e.g. 5s, 250ms, 1m30s)",
    ),
    case(
        "cpu-limit-duration",
        "tests:\n  - run: echo\n    limits: {cpu: forever}\n",
        "3:19: limits.cpu: invalid duration 'forever': use seconds or the units ms, s, m, h, d, w "
        "(e.g. 5s, 250ms, 1m30s)",
    ),
    case(
        "memory-size-word",
        "tests:\n  - run: echo\n    limits: {memory: lots}\n",
        "3:22: limits.memory: invalid size 'lots': expected bytes or e.g. 512MiB, 2G, 64k",
    ),
    case(
        "memory-size-fraction",
        "tests:\n  - run: echo\n    limits: {memory: 1.5G}\n",
        "3:22: limits.memory: invalid size '1.5G': expected bytes or e.g. 512MiB, 2G, 64k",
    ),
    case(
        "core-size-negative",
        "tests:\n  - run: echo\n    limits: {core: -1}\n",
        "3:20: limits.core: invalid size -1: expected bytes or e.g. 512MiB, 2G, 64k",
    ),
    case(
        "memory-size-unknown-unit",
        "tests:\n  - run: echo\n    limits: {memory: 2TB}\n",
        "3:22: limits.memory: invalid size '2TB': expected bytes or e.g. 512MiB, 2G, 64k",
    ),
]

SIGNALS_AND_EXITS = [
    case(
        "unknown-signal-name",
        "tests:\n  - run: echo\n    expect: {signal: SIGFOO}\n",
        "3:22: expect.signal: unknown signal 'SIGFOO'; use a name like SIGTERM",
    ),
    case(
        "unknown-short-signal-name",
        "tests:\n  - run: echo\n    expect: {signal: segfault}\n",
        "3:22: expect.signal: unknown signal 'segfault'; use a name like SIGTERM",
    ),
    case(
        "signal-list",
        "tests:\n  - run: echo\n    expect: {signal: [TERM]}\n",
        "3:22: expect.signal: unknown signal a list; use a name like SIGTERM",
    ),
    case(
        "exit-word",
        "tests:\n  - run: echo\n    expect: {exit: zero}\n",
        "3:20: expect.exit must be a code, a list of codes, 'nonzero' or 'any', not 'zero'",
    ),
    case(
        "exit-mapping",
        "tests:\n  - run: echo\n    expect: {exit: {code: 1}}\n",
        "3:20: expect.exit must be a code, a list of codes, 'nonzero' or 'any', not a mapping",
    ),
    case(
        "exit-empty-list",
        "tests:\n  - run: echo\n    expect: {exit: []}\n",
        "3:20: expect.exit must be a code, a list of codes, 'nonzero' or 'any', not a list",
    ),
    case(
        "exit-list-with-word",
        "tests:\n  - run: echo\n    expect: {exit: [0, x]}\n",
        "3:24: each exit code must be a whole number, not a string",
    ),
    case(
        "exit-negative",
        "tests:\n  - run: echo\n    expect: {exit: -1}\n",
        "3:20: expect.exit must be at least 0, not -1",
    ),
]

INTERPOLATION = [
    case(
        "unknown-var-with-suggestion",
        "vars: {word: needle}\ntests:\n  - run: echo ${{ vars.wrod }}\n",
        "3:15: unknown variable 'vars.wrod'; did you mean 'word'?",
    ),
    case(
        "unknown-var-without-vars",
        "tests:\n  - run: echo ${{ vars.x }}\n",
        "2:15: unknown variable 'vars.x'",
    ),
    case(
        "unknown-suite-fact",
        "tests:\n  - run: echo ${{ suite.path }}\n",
        "2:15: unknown variable 'suite.path'",
    ),
    case(
        "unknown-namespace",
        "tests:\n  - run: echo ${{ secrets.token }}\n",
        "2:15: unknown namespace 'secrets' in '${{ secrets.token }}': expected one of env, "
        "services, suite, vars",
    ),
    case(
        "unset-env",
        "tests:\n  - run: echo ${{ env.NOT_SET_ANYWHERE }}\n",
        "2:15: environment variable 'NOT_SET_ANYWHERE' is not set",
    ),
    case(
        "not-a-reference",
        "tests:\n  - run: echo ${{ word }}\n",
        "2:15: invalid expression '${{ word }}': expected one of env, services, "
        "suite, vars followed by .name",
    ),
    case(
        "vars-cannot-use-vars",
        "vars: {a: x, b: '${{ vars.a }}'}\ntests:\n  - run: echo\n",
        "1:18: unknown namespace 'vars' in '${{ vars.a }}': expected one of env, suite",
    ),
    case(
        "double-quoted-column",
        'vars: {}\ntests:\n  - run: "echo ${{ vars.x }}"\n',
        "3:16: unknown variable 'vars.x'",
    ),
    case(
        "single-quoted-column",
        "tests:\n  - run: [echo, 'a ${{ vars.x }}']\n",
        "2:20: unknown variable 'vars.x'",
    ),
    case(
        "block-scalar-points-at-the-string",
        "tests:\n  - run: |\n      echo ${{ vars.x }}\n",
        "2:10: unknown variable 'vars.x'",
    ),
    case(
        "two-in-one-string",
        "tests:\n  - run: echo ${{ vars.a }}-${{ env.NOPE }}\n",
        "2:15: unknown variable 'vars.a'",
        "2:29: environment variable 'NOPE' is not set",
    ),
    case(
        "in-expected-output",
        "tests:\n  - run: echo\n    expect:\n      stdout: {contains: '${{ vars.nope }}'}\n",
        "4:27: unknown variable 'vars.nope'",
    ),
]

BINARY = [
    case(
        "nul-byte",
        b"tests:\n  - run: e\x00cho\n",
        "2:11: binary file: a test file must be UTF-8 text",
    ),
    case(
        "latin-1",
        b"tests:\n  - run: echo caf\xe9\n",
        "2:18: binary file: a test file must be UTF-8 text",
    ),
    case(
        "utf-16",
        "tests:\n  - run: echo\n".encode("utf-16"),
        "1:4: binary file: a test file must be UTF-8 text",
    ),
    case(
        "png-header",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "3:1: binary file: a test file must be UTF-8 text",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *SYNTAX,
        *EMPTY,
        *SUITE_SHAPE,
        *UNKNOWN_KEYS,
        *WRONG_TYPES,
        *ACTIONS,
        *DUPLICATES,
        *NEEDS,
        *REGEX_AND_PATHS,
        *UNITS,
        *SIGNALS_AND_EXITS,
        *INTERPOLATION,
        *BINARY,
    ],
)
def test_problem_is_reported_at_its_position(
    suites, text: str | bytes, expected: list[str]
) -> None:
    if isinstance(text, str):
        # Cases are written without indentation to keep columns obvious.
        text = text.encode()
    assert suites.problems(text) == expected


def test_spec_error_is_a_user_error_listing_every_problem(suites) -> None:
    with pytest.raises(SpecError) as caught:
        suites.load("tests:\n  - run: echo\n    timeot: 5s\n  - nmae: x\n    run: ls\n")
    error = caught.value
    assert isinstance(error, UserError)
    assert str(error) == (
        f"{F}:3:5: unknown key 'timeot' in a test; did you mean 'timeout'?\n"
        f"{F}:4:5: unknown key 'nmae' in a test; did you mean 'name'?"
    )
    assert [(p.path, p.line, p.column) for p in error.problems] == [
        (Path(F), 3, 5),
        (Path(F), 4, 5),
    ]


def test_every_mistake_in_a_file_is_reported(suites) -> None:
    problems = suites.problems(
        """
        suite: five mistakes
        tests:
          - name: one
            run: echo
            timeot: 5s
          - name: two
            run: echo
            expect: {exit: zero}
          - name: three
            run: echo ${{ vars.missing }}
          - name: four
            http: {get: /}
          - name: five
            run: echo
            needs: [for]
        """
    )
    assert problems == [
        f"{F}:6:5: unknown key 'timeot' in a test; did you mean 'timeout'?",
        f"{F}:9:20: expect.exit must be a code, a list of codes, 'nonzero' or 'any', not 'zero'",
        f"{F}:11:15: unknown variable 'vars.missing'",
        f"{F}:13:5: test kind 'http' is not available in this version of Assay",
        f"{F}:14:5: needs 'for': no test of that name in this suite; did you mean 'four'?",
    ]


def test_several_mistakes_in_one_test_are_all_reported(suites) -> None:
    problems = suites.problems(
        "tests:\n  - name: [x]\n    run: 5\n    retries: -1\n    env: [A]\n"
        "    expect: {signal: NOPE, stdout: {empty: 1}}\n"
    )
    assert problems == [
        f"{F}:2:11: name must be a string, not a list",
        f"{F}:3:10: run must be a command string or an argument list, not a number",
        f"{F}:4:14: retries must be at least 0, not -1",
        f"{F}:5:10: env must be a mapping, not a list",
        f"{F}:6:22: expect.signal: unknown signal 'NOPE'; use a name like SIGTERM",
        f"{F}:6:44: stdout.empty must be true or false, not a number",
    ]


def test_problems_from_every_file_are_reported_sorted(suites) -> None:
    suites.write("tests:\n  - run: echo\n    exepct: {}\n", "b.assay.yaml")
    suites.write("tests:\n  - run: echo\n", "fine.assay.yaml")
    suites.write("", "a.assay.yaml")
    suites.write("tests: [\n", "sub/c.assay.yml")
    suites.write("tests:\n  - run: ls\n  - run: ls\n", "sub/d.assay.yaml")
    with pytest.raises(SpecError) as caught:
        spec.load([Path(".")], cwd=suites.root, environ={})
    assert [str(p) for p in caught.value.problems] == [
        "a.assay.yaml:1:1: empty test file: expected a mapping with a 'tests' list",
        "b.assay.yaml:3:5: unknown key 'exepct' in a test; did you mean 'expect'?",
        "sub/c.assay.yml:2:1: YAML syntax error: did not find expected node content",
        "sub/d.assay.yaml:3:5: duplicate test name 'ls' (first at line 2)",
    ]


def test_a_valid_file_next_to_an_invalid_one_does_not_load(suites) -> None:
    good = suites.write("tests:\n  - run: echo\n", "good.assay.yaml")
    bad = suites.write("tests: []\n", "bad.assay.yaml")
    with pytest.raises(SpecError) as caught:
        spec.load([good, bad], cwd=suites.root, environ={})
    assert [str(p) for p in caught.value.problems] == [
        "bad.assay.yaml:1:8: 'tests' is empty: add at least one test"
    ]


def test_an_unreadable_path_is_reported(suites, tmp_path: Path) -> None:
    directory = tmp_path / "dir.assay.yaml"
    directory.mkdir()
    with pytest.raises(SpecError) as caught:
        spec.load_files([directory], cwd=tmp_path, environ={})
    assert [str(p) for p in caught.value.problems] == [
        "dir.assay.yaml:1:1: cannot read test file: Is a directory"
    ]


def test_tests_without_a_name_are_not_reported_as_duplicates(suites) -> None:
    problems = suites.problems("tests:\n  - expect: {}\n  - expect: {}\n")
    assert problems == [
        f"{F}:2:5: the test has no action: add 'run' (one of run, http, browser, sql, pytest)",
        f"{F}:3:5: the test has no action: add 'run' (one of run, http, browser, sql, pytest)",
    ]


def test_a_defaults_cwd_outside_the_work_directory_is_reported(suites) -> None:
    problems = suites.problems("defaults: {cwd: ../escape}\ntests:\n  - run: pwd\n")
    assert problems == [
        f"{F}:1:17: cwd: '../escape' must be a relative path inside the work directory"
    ]


@pytest.mark.parametrize("number", ["0", "99"], ids=["zero", "unknown"])
def test_an_unknown_signal_number_is_reported(suites, number: str) -> None:
    with pytest.raises(SpecError):
        suites.load(f"tests:\n  - run: echo\n    expect: {{signal: {number}}}\n")


def test_a_nan_timeout_is_reported(suites) -> None:
    with pytest.raises(SpecError):
        suites.load("tests:\n  - run: echo\n    timeout: .nan\n")


def test_interpolation_problem_in_json_points_at_the_string(suites) -> None:
    problems = suites.problems(
        "tests:\n  - run: echo\n    expect:\n      stdout: {json: {a: 'x ${{ vars.nope }}'}}\n"
    )
    assert problems == [f"{F}:4:29: unknown variable 'vars.nope'"]
