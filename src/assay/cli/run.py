"""`assay run`: find suites, run them, report, and exit with a pytest-style code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from assay.cli.exitcodes import ExitCode

DESCRIPTION = """\
Run the tests in **/*.assay.yaml under PATHS (default: the configured paths,
or the current directory). Exit codes: 0 all passed, 1 some failed, 2
interrupted or invalid test files, 3 internal error, 4 usage error, 5 no
tests selected."""


def add_parser(commands: Any) -> None:
    """Register `run` and its options."""
    p = commands.add_parser(
        "run",
        help="run tests",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="suite files or directories")
    select = p.add_argument_group("selection")
    select.add_argument(
        "-k",
        dest="keyword",
        metavar="EXPR",
        help="only tests whose id matches: substrings with and/or/not",
    )
    select.add_argument(
        "-t",
        "--tag",
        dest="tags",
        action="append",
        default=[],
        metavar="TAG",
        help="only tests with this tag (repeat for any of several)",
    )
    select.add_argument("--list", action="store_true", help="list the selected tests and exit")
    execution = p.add_argument_group("execution")
    execution.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="tests to run at once (default: number of CPUs)",
    )
    execution.add_argument(
        "--timeout", type=_duration, metavar="DURATION", help="deadline for the whole run, e.g. 10m"
    )
    execution.add_argument(
        "--test-timeout",
        type=_duration,
        metavar="DURATION",
        help="default per-test timeout (default: 60s)",
    )
    execution.add_argument(
        "--idle-timeout",
        type=_duration,
        metavar="DURATION",
        help="stop a test whose output is silent this long",
    )
    execution.add_argument(
        "--kill-grace",
        type=_duration,
        metavar="DURATION",
        help="time between SIGTERM and SIGKILL (default: 2s)",
    )
    execution.add_argument(
        "--keep-tmp",
        action="store_true",
        default=None,
        help="keep each test's work directory and print where",
    )
    execution.add_argument(
        "--strip-ansi",
        action="store_true",
        default=None,
        help="remove ANSI escapes from output before matching",
    )
    execution.add_argument(
        "--update-snapshots",
        action="store_true",
        help="write snapshot files instead of comparing them",
    )
    history = p.add_argument_group("history")
    history.add_argument(
        "--last-failed",
        "--lf",
        action="store_true",
        help="run only the tests that failed last time (all, if none did)",
    )
    history.add_argument(
        "--failed-first", "--ff", action="store_true", help="run last time's failures first"
    )
    history.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="run the K-th of N shards, balanced by recorded durations",
    )
    history.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        default=None,
        help="do not record this run in Assay's database",
    )
    add_db_option(history)
    output = p.add_argument_group("reports")
    output.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML here")
    output.add_argument("--json", type=Path, metavar="PATH", help="write the JSON report here")
    output.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the console output (default: auto)",
    )
    output.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures and the summary"
    )
    remote = p.add_argument_group("remote")
    remote.add_argument(
        "--report-to",
        metavar="URL",
        type=_server_url,
        default=os.environ.get("ASSAY_REPORT_TO") or None,
        help="also send the results to the Assay server at URL (default: ASSAY_REPORT_TO)",
    )
    remote.add_argument(
        "--token",
        default=os.environ.get("ASSAY_TOKEN") or None,
        help="the server's API token, with the run scope (default: ASSAY_TOKEN)",
    )
    remote.add_argument(
        "--report-patience",
        type=_duration,
        metavar="DURATION",
        default=os.environ.get("ASSAY_REPORT_PATIENCE") or "2m",
        help="how long to keep trying a server that does not answer (default: 2m)",
    )
    p.set_defaults(handler=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _shard(text: str) -> tuple[int, int]:
    index, sep, total = text.partition("/")
    if not sep or not index.isdecimal() or not total.isdecimal():
        raise argparse.ArgumentTypeError(f"expected K/N such as 2/4, not {text!r}")
    k, n = int(index), int(total)
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"K must be between 1 and N, not {text!r}")
    return k, n


def add_db_option(group: Any) -> None:
    """The `--db URL` option every command that reads or writes history takes."""
    group.add_argument(
        "--db",
        dest="database_url",
        metavar="URL",
        help="Assay's database (default: ASSAY_DATABASE_URL or .assay/assay.db)",
    )


def _server_url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or len(text) <= len("https://"):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, not {text!r}")
    return text


def _duration(text: str) -> float:
    from assay.model.units import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    """Execute `assay run`."""
    from assay.api import HistorySelection, collect, execute_recorded
    from assay.config import load_settings
    from assay.engine.runs import Handler
    from assay.reports.console import ConsoleReporter

    settings = load_settings().merge(
        jobs=args.jobs,
        timeout=args.timeout,
        test_timeout=args.test_timeout,
        idle_timeout=args.idle_timeout,
        kill_grace=args.kill_grace,
        keep_tmp=args.keep_tmp,
        strip_ansi=args.strip_ansi,
        record=args.record,
        database_url=args.database_url,
    )
    history = HistorySelection(args.last_failed, args.failed_first, args.shard)
    tests = collect(
        args.paths or None,
        keyword=args.keyword,
        tags=args.tags,
        settings=settings,
        history=history,
    )
    if args.list:
        for test in tests:
            print(test.id)
        return ExitCode.OK if tests else ExitCode.NO_TESTS_COLLECTED
    everything = (
        args.shard
        and not tests
        and collect(args.paths or None, keyword=args.keyword, tags=args.tags, settings=settings)
    )
    if everything:
        # More shards than groups of tests: an empty shard is not a broken CI job.
        print(f"assay: shard {args.shard[0]}/{args.shard[1]} has no tests", file=sys.stderr)
        return ExitCode.OK
    if not tests:
        print("assay: no tests selected", file=sys.stderr)
        return ExitCode.NO_TESTS_COLLECTED
    tty = sys.stdout.isatty()
    color = args.color == "always" or (
        args.color == "auto" and tty and "NO_COLOR" not in os.environ
    )
    handlers: list[Handler] = [ConsoleReporter(sys.stdout, color=color, live=tty, quiet=args.quiet)]
    options = {
        "paths": [str(p) for p in args.paths],
        "keyword": args.keyword,
        "tags": args.tags,
        "shard": "/".join(map(str, args.shard)) if args.shard else None,
    }
    chosen: dict[str, object] = {k: v for k, v in options.items() if v}
    remote = None
    if args.report_to:
        from assay.reports.remote import RemoteReporter

        remote = RemoteReporter(
            args.report_to,
            args.token,
            project=settings.project_name,
            options=chosen,
            checkout=settings.root,
            patience=args.report_patience,
        )
        handlers.append(remote)  # after the console: its summary comes before the wait
    result, recorder = execute_recorded(
        tests, settings, handlers, args.update_snapshots, trigger="cli", options=chosen
    )
    if recorder is not None and recorder.error:
        print(f"assay: warning: the run was not recorded: {recorder.error}", file=sys.stderr)
    if remote is not None and remote.problem:
        print(f"assay: warning: {remote.problem}", file=sys.stderr)
    if args.junit or args.json:
        from assay import __version__
        from assay.reports.files import write_reports

        # A ReportWriteError (exit 4) comes only after every report that could be written was.
        write_reports(result, version=__version__, junit=args.junit, json=args.json)
    if result.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if result.ok else ExitCode.TESTS_FAILED
