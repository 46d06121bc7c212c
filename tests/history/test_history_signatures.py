"""Failure signatures (`assay.history.signature`) and clusters of failures (`cluster`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assay.history import Cluster, FailureSample, cluster, signature
from assay.history.signatures import MAX_SIGNATURE

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AssertionError: assert 3 == 4", "AssertionError: assert <n> == <n>"),
        ("took 1.5s (limit 500ms), 12% over", "took <n>s (limit <n>ms), <n>% over"),
        ("exit code -9", "exit code -<n>"),
        ("<Conn object at 0x7f3a2c1d9e40> closed", "<Conn object at <hex>> closed"),
        ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8 missing", "commit <hex> missing"),
        ("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sha256:<hex>"),
        ("request 550e8400-e29b-41d4-a716-446655440000 failed", "request <uuid> failed"),
        ("REQUEST 550E8400-E29B-41D4-A716-446655440000", "REQUEST <uuid>"),
        ("no such file: /tmp/abc/x.py", "no such file: <path>"),
        ("no such file: /tmp/abc/x.py.", "no such file: <path>."),
        (
            'File "/home/u/p/tests/test_x.py", line 12, in test_2',
            'File "<path>", line <n>, in test_2',
        ),
        ("/tmp/pytest-7/a.yaml:12:5: bad key", "<path>:<n>:<n>: bad key"),
        ("./build/out.log, ../up and ~/home", "<path>, <path> and <path>"),
        (r"C:\Users\me\AppData\x.txt not found", "<path> not found"),
        ("at 2024-05-01T12:30:45.123+02:00", "at <timestamp>"),
        ("at 2024-05-01T12:30:45Z", "at <timestamp>"),
        ("logged 2024-05-01 12:30:45,123 ERROR", "logged <timestamp> ERROR"),
        ("on 2024-05-01, 01/05/2024 and 2024/05/01", "on <date>, <date> and <date>"),
        ("on 3 May 2024 or May 3, 2024", "on <date> or <date>"),
        ("at 12:30:45 and 9:05:00.5", "at <time> and <time>"),
        ("  spread\tover\n\n  lines  ", "spread over lines"),
        (
            "GET http://localhost:8080/users/42 gave 500",
            "GET http://localhost:<n>/users/<n> gave <n>",
        ),
    ],
    ids=[
        "integers",
        "numbers-with-units",
        "negative-number",
        "memory-address",
        "git-sha",
        "digest",
        "uuid",
        "upper-case-uuid",
        "absolute-path",
        "path-before-full-stop",
        "traceback-line",
        "path-with-position",
        "relative-and-home-paths",
        "windows-path",
        "iso-timestamp-with-offset",
        "iso-timestamp-utc",
        "logging-timestamp",
        "numeric-dates",
        "dates-with-month-names",
        "times",
        "whitespace",
        "url-keeps-its-shape",
    ],
)
def test_normalises(text: str, expected: str) -> None:
    assert signature(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "KeyError: 'user_name'",
        "sha256 mismatch in py311 build",
        "expected and/or got TCP/IP",
        "deadbeef is a word here",
        "version v1.2",
        "",
    ],
    ids=[
        "identifiers",
        "digits-inside-names",
        "slashes-between-words",
        "hex-only-word",
        "v-version",
        "empty",
    ],
)
def test_keeps_what_does_not_vary(text: str) -> None:
    assert signature(text) == text


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "Timeout after 30.1s waiting for /tmp/tmpa81x/sock (pid 4411)",
            "Timeout after 29.7s waiting for /tmp/tmpq2zz/sock (pid 17)",
        ),
        (
            "<Session at 0x7f00aa> expired at 2024-05-01T10:00:00Z",
            "<Session at 0x55ffee12> expired at 2024-06-02T23:59:59Z",
        ),
        (
            "job 8c1d0b3e-0000-4000-8000-0123456789ab lost",
            "job 11111111-2222-4333-8444-555555555555 lost",
        ),
        ("connection refused\n  on port 5432", "connection refused on port 5433"),
    ],
    ids=["timeouts", "sessions", "jobs", "whitespace-and-port"],
)
def test_equivalent_failures_share_a_signature(first: str, second: str) -> None:
    assert signature(first) == signature(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("KeyError: 'user'", "KeyError: 'group'"),
        ("stdout does not contain 'ok'", "stderr does not contain 'ok'"),
        ("killed by SIGSEGV", "killed by SIGKILL"),
    ],
    ids=["different-keys", "different-streams", "different-signals"],
)
def test_different_failures_stay_apart(first: str, second: str) -> None:
    assert signature(first) != signature(second)


def test_long_messages_are_cut() -> None:
    sig = signature("x" * 1000)
    assert len(sig) == MAX_SIGNATURE
    assert sig.endswith("…")


def test_is_idempotent() -> None:
    text = (
        "at 0x7f3a in /tmp/a/b.py:3 on 2024-05-01 12:00:01Z after 2.5s"
        " (id 550e8400-e29b-41d4-a716-446655440000, commit 9fceb02d0ae5)"
    )
    assert signature(signature(text)) == signature(text)


def failure(test_id: str, run_id: int, message: str) -> FailureSample:
    return FailureSample(test_id, run_id, message, T0 + timedelta(hours=run_id))


class TestCluster:
    def test_groups_by_signature(self) -> None:
        samples = [
            failure("b", 1, "timeout after 5.0s"),
            failure("a", 1, "timeout after 5.2s"),
            failure("a", 2, "KeyError: 'x'"),
            failure("b", 3, "timeout after 4.9s"),
        ]
        assert cluster(samples) == [
            Cluster(
                signature="timeout after <n>s",
                count=3,
                tests=("a", "b"),
                runs=2,
                example="timeout after 4.9s",
                first_seen=T0 + timedelta(hours=1),
                last_seen=T0 + timedelta(hours=3),
            ),
            Cluster(
                signature="KeyError: 'x'",
                count=1,
                tests=("a",),
                runs=1,
                example="KeyError: 'x'",
                first_seen=T0 + timedelta(hours=2),
                last_seen=T0 + timedelta(hours=2),
            ),
        ]

    def test_ties_go_to_the_most_recent_then_the_signature(self) -> None:
        samples = [
            failure("t", 1, "old"),
            failure("t", 5, "recent b"),
            failure("t", 5, "recent a"),
        ]
        assert [c.signature for c in cluster(samples)] == ["recent a", "recent b", "old"]

    def test_tests_are_distinct_and_sorted(self) -> None:
        samples = [failure(t, i, "boom") for i, t in enumerate(["z", "a", "z", "m", "a"])]
        [only] = cluster(samples)
        assert only.tests == ("a", "m", "z")
        assert only.runs == 5
        assert only.count == 5

    def test_no_failures(self) -> None:
        assert cluster([]) == []

    def test_input_order_does_not_matter(self) -> None:
        samples = [failure(t, i % 3, f"error {i}") for i, t in enumerate("abcabcab")]
        samples.append(failure("c", 9, "other"))
        assert cluster(reversed(samples)) == cluster(samples)
