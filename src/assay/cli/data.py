"""`assay import | report | db`: moving results in and out, and looking after the database."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from assay.cli.exitcodes import ExitCode
from assay.cli.output import print_json
from assay.cli.run import add_db_option


def add_parsers(commands: Any) -> None:
    """Register `import`, `report` and `db`."""
    imp = commands.add_parser(
        "import",
        help="store results of another tool (JUnit XML, pytest --report-log)",
        description="Store the results in foreign report files as one run.",
    )
    imp.add_argument("format", choices=("junit", "reportlog"), help="the files' format")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument(
        "--partial",
        action="store_true",
        help="keep what was read before a broken part (default: import nothing)",
    )
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_db_option(imp)
    imp.set_defaults(handler=_import)

    report = commands.add_parser("report", help="write a report of a recorded run")
    report.add_argument("format", choices=("html", "markdown"))
    report.add_argument("run", nargs="?", default="last", help="run id, 'last' or 'last~N'")
    report.add_argument(
        "-o", "--output", type=Path, help="file to write (default: report.html / standard output)"
    )
    add_db_option(report)
    report.set_defaults(handler=_report)

    db = commands.add_parser("db", help="look after Assay's database")
    actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply pending schema migrations")
    add_db_option(upgrade)
    upgrade.set_defaults(handler=_upgrade)
    prune = actions.add_parser(
        "prune", help="delete old runs and the artifacts only they used, and free the space"
    )
    prune.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 30d, 12h, 90m")
    prune.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")
    prune.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_db_option(prune)
    prune.set_defaults(handler=_prune)


def _settings(args: argparse.Namespace) -> Any:
    from assay.config import load_settings

    return load_settings().merge(database_url=args.database_url)


def _import(args: argparse.Namespace) -> int:
    from assay.api import import_results

    imported = import_results(
        args.files, format=args.format, partial=args.partial, settings=_settings(args)
    )
    if args.json:
        print_json(imported)
        return ExitCode.OK
    counts = ", ".join(f"{n} {o}" for o, n in sorted(imported.by_outcome.items()))
    print(f"imported {imported.cases} results as run {imported.run_id} ({counts or 'none'})")
    if imported.unknown_elements:
        unknown = ", ".join(f"{k} x{n}" for k, n in sorted(imported.unknown_elements.items()))
        print(f"assay: warning: not understood and not imported: {unknown}", file=sys.stderr)
    if imported.partial:
        print(f"assay: warning: {imported.partial}", file=sys.stderr)
    return ExitCode.OK


def _report(args: argparse.Namespace) -> int:
    from assay.api import open_store
    from assay.store import queries

    store = open_store(_settings(args))
    run_id = queries.resolve_run(store, args.run)
    if args.format == "html":
        from assay.reports.html import write_html

        output = write_html(store, run_id, args.output or Path("report.html"))
        print(f"wrote {output}")
        return ExitCode.OK
    from assay.reports.document import build_document
    from assay.reports.markdown import render_markdown

    text = render_markdown(build_document(store, run_id))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return ExitCode.OK


def _upgrade(args: argparse.Namespace) -> int:
    from assay.api import open_store
    from assay.store.connections import redact

    store = open_store(_settings(args))
    before, after = store.upgrade()
    if before == after:
        print(f"{redact(store.url)}: already at revision {after}")
    else:
        print(f"{redact(store.url)}: upgraded from {before or 'an empty database'} to {after}")
    return ExitCode.OK


def _prune(args: argparse.Namespace) -> int:
    from assay.api import open_store
    from assay.errors import UsageError
    from assay.model.units import format_duration, parse_duration
    from assay.store.retention import prune

    try:
        age = parse_duration(args.older_than)
    except ValueError as error:
        raise UsageError(f"--older-than: {error}") from None
    pruned = prune(open_store(_settings(args)), time.time() - age, dry_run=args.dry_run)
    if args.json:
        print_json(pruned)
        return ExitCode.OK
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} {pruned.runs} runs older than {format_duration(age)} ({pruned.results} results) "
        f"and {pruned.artifacts} artifacts ({pruned.bytes_freed} bytes)"
    )
    if pruned.deliveries:
        print(f"{verb} {pruned.deliveries} webhook delivery attempts older than that")
    if pruned.database_bytes_before is not None and not args.dry_run:
        print(f"database: {pruned.database_bytes_before} -> {pruned.database_bytes_after} bytes")
    return ExitCode.OK
