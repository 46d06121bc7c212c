"""The `assay` command: parse, call the library, print, exit with a pytest-style code.

The command line is built with argparse rather than Typer: importing Typer
(and Rich) costs about 100 ms, most of the 150 ms budget for a one-test run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from assay.cli.exitcodes import ExitCode

__all__ = ["ExitCode", "main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit with code 4, like pytest's."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"assay: error: {message}\n")
        raise SystemExit(ExitCode.USAGE_ERROR)


def build_parser() -> argparse.ArgumentParser:
    """The full command-line parser."""
    from assay import __version__
    from assay.cli import data as data_commands
    from assay.cli import history as history_commands
    from assay.cli import run as run_command
    from assay.cli import serve as serve_commands

    parser = _Parser(
        prog="assay",
        description="Declarative tests for command-line programs: fast, contained, recorded.",
        epilog="Run 'assay COMMAND --help' for a command's options. Docs: docs/index.md",
    )
    parser.add_argument("--version", action="version", version=f"assay {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run_command.add_parser(commands)
    history_commands.add_parsers(commands)
    data_commands.add_parsers(commands)
    serve_commands.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `assay` command; returns the exit code."""
    if sys.stdout is None:
        # Started with stdout closed (`assay run >&-`): Python leaves sys.stdout unset, and
        # the output has nowhere to go, so send it nowhere rather than fail writing it.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - open for the life of the process
    parser = build_parser()
    # SIGTERM stops a run as Ctrl-C does: tests and services are stopped, results kept.
    previous = _on_sigterm(_terminate)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return ExitCode.USAGE_ERROR
        code: int = args.handler(args)
        return code
    except KeyboardInterrupt:
        sys.stderr.write("assay: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # Whoever read our output has gone (`assay run | head -1`): stop quietly, as tools
        # that die of SIGPIPE do. The run's `finally` blocks have already stopped its tests.
        _discard_stdout()
        return ExitCode.INTERRUPTED
    except Exception as error:  # the last line of defence: no traceback for users
        return _report(error)
    finally:
        _on_sigterm(previous)


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _on_sigterm(handler: Any) -> Any:
    """Install `handler` for SIGTERM (from the main thread only); the one it replaces."""
    import signal
    import threading

    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def _discard_stdout() -> None:
    # Python flushes stdout again at exit; with the pipe gone that would fail and print
    # "Exception ignored ... BrokenPipeError". Point the descriptor at /dev/null instead.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def _report(error: Exception) -> int:
    from assay.errors import NotFoundError, SpecError, UsageError, UserError

    if isinstance(error, SpecError):
        for problem in error.problems:
            sys.stderr.write(f"{problem}\n")
        files = len({p.path for p in error.problems})
        sys.stderr.write(
            f"assay: {len(error.problems)} problem{'s' if len(error.problems) != 1 else ''} "
            f"in {files} test file{'s' if files != 1 else ''}; nothing was run\n"
        )
        return ExitCode.INTERRUPTED
    if isinstance(error, UsageError):
        sys.stderr.write(f"assay: error: {error}\n")
        return ExitCode.USAGE_ERROR
    if isinstance(error, UserError | NotFoundError):
        sys.stderr.write(f"assay: error: {error}\n")
        return ExitCode.USAGE_ERROR
    if os.environ.get("ASSAY_DEBUG"):
        raise error
    sys.stderr.write(
        f"assay: internal error: {type(error).__name__}: {error}\n"
        "This is a bug in Assay. Set ASSAY_DEBUG=1 to see the traceback.\n"
    )
    return ExitCode.INTERNAL_ERROR
