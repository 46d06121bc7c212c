"""`assay runs | show | compare | flaky | slowest | failures`: reading recorded history."""

from __future__ import annotations

import argparse
from typing import Any

from assay.cli.exitcodes import ExitCode
from assay.cli.output import print_json, print_table
from assay.cli.run import add_db_option


def add_parsers(commands: Any) -> None:
    """Register the history commands."""
    runs = _command(commands, "runs", "list recent runs", _runs)
    runs.add_argument("-n", "--limit", type=int, default=20, help="how many (default: 20)")
    runs.add_argument("--status", help="only runs with this status (passed, failed, ...)")
    runs.add_argument("--branch", help="only runs on this Git branch")
    show = _command(commands, "show", "one run: outcomes, attempts, failures", _show)
    show.add_argument("run", nargs="?", default="last", help="run id, 'last' or 'last~N'")
    show.add_argument("--all", action="store_true", help="list passed tests too")
    compare = _command(commands, "compare", "what changed between two runs", _compare)
    compare.add_argument("base", help="the earlier run (id, 'last~1', ...)")
    compare.add_argument("head", nargs="?", default="last", help="the later run (default: last)")
    flaky = _command(commands, "flaky", "flaky tests, with why each was flagged", _flaky)
    flaky.add_argument("--window", type=int, default=30, help="runs to look at (default: 30)")
    flaky.add_argument("--min-samples", type=int, default=5, help="for the flip rate (default: 5)")
    slowest = _command(commands, "slowest", "slowest tests, with their trend", _slowest)
    slowest.add_argument("-n", "--limit", type=int, default=20, help="how many (default: 20)")
    slowest.add_argument("--window", type=int, default=30, help="runs to look at (default: 30)")
    history = _command(commands, "history", "one test's recent results", _history)
    history.add_argument("test", metavar="TEST_ID", help="e.g. tests/cli.assay.yaml::finds a line")
    history.add_argument("-n", "--limit", type=int, default=30, help="runs to show (default: 30)")
    failures = _command(commands, "failures", "failures grouped by error signature", _failures)
    failures.add_argument("--window", type=int, default=30, help="runs to look at (default: 30)")


def _command(commands: Any, name: str, text: str, handler: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=text, description=text)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_db_option(parser)
    parser.set_defaults(handler=handler)
    return parser


def _store(args: argparse.Namespace) -> Any:
    from assay.api import open_store
    from assay.config import load_settings

    return open_store(load_settings().merge(database_url=args.database_url))


def _runs(args: argparse.Namespace) -> int:
    from assay.store import queries

    runs = queries.list_runs(_store(args), limit=args.limit, status=args.status, branch=args.branch)
    if args.json:
        print_json(runs)
        return ExitCode.OK
    if not runs:
        filtered = args.status or args.branch
        print("no runs match" if filtered else "no runs recorded yet")
        return ExitCode.OK
    print_table(
        [
            "id",
            "started",
            "trigger",
            "branch",
            "commit",
            "status",
            "passed",
            "failed",
            "skipped",
            "flaky",
            "duration",
        ],
        [
            [
                r.id,
                r.started_at,
                r.trigger,
                r.branch,
                (r.commit or "")[:8] + ("*" if r.dirty else ""),
                r.status,
                r.passed,
                r.failed + r.errors + r.timeouts,
                r.skipped,
                r.flaky,
                r.duration,
            ]
            for r in runs
        ],
    )
    return ExitCode.OK


def _show(args: argparse.Namespace) -> int:
    from assay.store import queries

    store = _store(args)
    run = queries.get_run(store, queries.resolve_run(store, args.run))
    outcomes = () if args.all or args.json else ("failed", "error", "timeout")
    results = queries.results(store, run.id, outcomes=outcomes, with_attempts=True)
    if args.json:
        print_json({"run": run, "results": results})
        return ExitCode.OK
    print(
        f"run {run.id}  {run.status}  {run.trigger}  started {run.started_at:%Y-%m-%d %H:%M:%S}"
        f"  {run.duration or 0:.2f}s"
    )
    if run.branch or run.commit:
        print(
            f"  {run.branch or '-'} @ {(run.commit or '-')[:12]}{' (dirty)' if run.dirty else ''}"
        )
    print(
        f"  {run.passed} passed, {run.failed} failed, {run.errors} errors, {run.timeouts} "
        f"timeouts, {run.skipped} skipped, {run.flaky} flaky"
    )
    if run.reason:
        print(f"  {run.reason}")
    for result in results:
        mark = " (flaky)" if result.flaky else ""
        print(f"\n{result.outcome.upper()}{mark} {result.key}  {result.duration:.2f}s")
        for attempt in result.attempts:
            print(
                f"  attempt {attempt.number}: {attempt.outcome}"
                + (f", exit {attempt.exit_code}" if attempt.exit_code is not None else "")
                + (f", {attempt.signal}" if attempt.signal else "")
            )
            for failure in attempt.failures:
                message = str(failure.get("message", "")).replace("\n", "\n      ")
                print(f"    {failure.get('expectation')}: {message}")
            for stream in ("stdout", "stderr"):
                digest = getattr(attempt, f"{stream}_artifact")
                if digest:
                    print(f"    {stream} log: {store.artifacts.path(digest)}")
    return ExitCode.OK


def _compare(args: argparse.Namespace) -> int:
    from assay.history.stored import compare_runs
    from assay.store import queries

    store = _store(args)
    base, head = queries.resolve_run(store, args.base), queries.resolve_run(store, args.head)
    comparison = compare_runs(store, base, head)
    if args.json:
        print_json({"base": base, "head": head, "comparison": comparison})
        return ExitCode.OK
    print(f"run {base} -> run {head}")
    for title, changes in (
        ("new failures", comparison.new_failures),
        ("fixed", comparison.fixed),
        ("still failing", comparison.still_failing),
        ("new tests", comparison.new_tests),
        ("removed tests", comparison.removed_tests),
    ):
        print(f"\n{title}: {len(changes)}")
        for change in changes:
            before = change.base.outcome.value if change.base else "-"
            after = change.head.outcome.value if change.head else "-"
            print(f"  {change.test_id}  {before} -> {after}")
    print(f"\nslower: {len(comparison.slowdowns)}")
    for slow in comparison.slowdowns:
        print(
            f"  {slow.test_id}  {slow.base.duration:.2f}s -> {slow.head.duration:.2f}s "
            f"(x{slow.ratio:.1f})"
        )
    return ExitCode.OK


def _flaky(args: argparse.Namespace) -> int:
    from assay.history import FlakyConfig
    from assay.history.stored import flaky_tests

    found = flaky_tests(_store(args), FlakyConfig(window=args.window, min_samples=args.min_samples))
    if args.json:
        print_json(found)
        return ExitCode.OK
    if not found:
        print(f"no flaky tests in the last {args.window} runs")
    for test in found:
        print(f"{test.score:.2f}  {test.test_id}  ({test.samples} runs)")
        for reason in test.reasons:
            print(f"      {reason}")
    return ExitCode.OK


def _slowest(args: argparse.Namespace) -> int:
    from assay.history.stored import slowest_tests

    found = slowest_tests(_store(args), runs=args.window, limit=args.limit)
    if args.json:
        print_json(found)
        return ExitCode.OK
    print_table(
        ["test", "last", "median", "before", "trend", "runs", "history"],
        [
            [
                t.test_id,
                t.last,
                t.median_recent,
                t.median_before,
                f"x{t.trend:.2f}" if t.trend is not None else None,
                t.runs,
                t.sparkline,
            ]
            for t in found
        ],
    )
    return ExitCode.OK


def _failures(args: argparse.Namespace) -> int:
    from assay.history.stored import failure_clusters

    found = failure_clusters(_store(args), runs=args.window)
    if args.json:
        print_json(found)
        return ExitCode.OK
    if not found:
        print(f"no failures in the last {args.window} runs")
    for c in found:
        print(f"{c.count} failures, {len(c.tests)} tests, {c.runs} runs: {c.signature}")
        for test_id in c.tests[:5]:
            print(f"      {test_id}")
        if len(c.tests) > 5:
            print(f"      ... and {len(c.tests) - 5} more")
    return ExitCode.OK


def _history(args: argparse.Namespace) -> int:
    from assay.history import sparkline
    from assay.store import queries

    found = queries.test_history(_store(args), args.test, limit=args.limit)
    if args.json:
        print_json(found)
        return ExitCode.OK
    if not found:
        print(f"{args.test}: no results in the last {args.limit} runs")
        return ExitCode.OK
    print(f"{args.test}: {len(found)} results  {sparkline([s.duration for s in found])}")
    print_table(
        ["run", "started", "commit", "outcome", "duration", "message"],
        [
            [
                s.run_id,
                s.run_started_at,
                (s.commit or "")[:8],
                s.outcome.value + (" (flaky)" if s.flaky else ""),
                s.duration,
                s.message,
            ]
            for s in reversed(found)
        ],
    )
    return ExitCode.OK
