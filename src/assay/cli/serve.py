"""`assay serve` and `assay token`: run the server, and manage its API tokens."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assay.cli.exitcodes import ExitCode
from assay.cli.output import print_json, print_table
from assay.cli.run import add_db_option

SERVER_EXTRA = "the server needs the 'server' extra: pip install 'assay[server]'"


def add_parsers(commands: Any) -> None:
    """Register `serve` and `token`."""
    serve = commands.add_parser(
        "serve",
        help="run the server: REST API, live runs, dashboard, webhooks",
        description="Serve the API and dashboard for this project's history; runs started "
        "from the API or the dashboard execute in this process.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--workers", type=int, default=2, metavar="N", help="runs executed at once (2)"
    )
    public = serve.add_mutually_exclusive_group()
    public.add_argument(
        "--public-read",
        dest="public_read",
        action="store_const",
        const=True,
        help="let anyone read without a token (default: only when listening on loopback)",
    )
    public.add_argument(
        "--private-read",
        dest="public_read",
        action="store_const",
        const=False,
        help="require a token to read, even on loopback",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another origin that may open live streams (repeatable)",
    )
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the server's address as people reach it; webhooks link to runs with it",
    )
    add_db_option(serve)
    serve.set_defaults(handler=_serve)

    token = commands.add_parser("token", help="manage the server's API tokens")
    actions = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a token and print its secret once")
    create.add_argument("--name", required=True, help="who or what uses it, e.g. ci")
    create.add_argument(
        "--scope",
        action="append",
        choices=("read", "run", "admin"),
        required=True,
        help="read, run (start runs, send results) or admin (tokens, webhooks); repeatable",
    )
    create.add_argument("--json", action="store_true", help="print the token as JSON")
    add_db_option(create)
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    add_db_option(listing)
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="revoke a token for good")
    revoke.add_argument("id", type=int, help="the token's id (see 'assay token list')")
    add_db_option(revoke)
    revoke.set_defaults(handler=_revoke)


def _settings(args: argparse.Namespace) -> Any:
    from assay.config import load_settings

    return load_settings().merge(database_url=args.database_url)


def _serve(args: argparse.Namespace) -> int:
    from assay.errors import UsageError

    try:
        import uvicorn

        from assay.server import ServerConfig, create_app
    except ImportError:
        raise UsageError(SERVER_EXTRA) from None
    settings = _settings(args)
    config = ServerConfig(
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        public_read=args.public_read,
        allowed_origins=tuple(args.allow_origin),
        public_url=args.public_url,
    )
    from assay.store.connections import redact

    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"assay: serving project {settings.project_name!r} at http://{shown_host}:{args.port}/ "
        f"(database {redact(settings.database)}; reading "
        f"{'needs no token' if config.read_is_public else 'needs a token'})",
        file=sys.stderr,
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=args.host,
            port=args.port,
            log_level="warning",
            timeout_graceful_shutdown=10,
        )
    )
    _serve_until_stopped(server)
    print("assay: server stopped", file=sys.stderr)
    return ExitCode.OK


def _serve_until_stopped(server: Any) -> None:
    """Serve until Ctrl-C or SIGTERM, then shut down gracefully (runs are cancelled).

    uvicorn catches the signal, shuts down, and then raises it again for the
    handler that was there before. With Python's default handler that is a
    KeyboardInterrupt in the middle of asyncio's own shutdown, which prints
    a traceback; a handler that ignores it lets the server end quietly.
    """
    import asyncio
    import signal

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _ignore) for sig in handled}
    try:
        asyncio.run(server.serve())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ignore(signum: int, frame: object) -> None:
    """A signal handler that does nothing (the server has already stopped)."""


def _create(args: argparse.Namespace) -> int:
    from assay.api import open_store
    from assay.store.tokens import create_token

    store = open_store(_settings(args))
    try:
        info, secret = create_token(store, args.name, args.scope)
    finally:
        store.close()
    if args.json:
        print_json({"id": info.id, "name": info.name, "scopes": info.scopes, "token": secret})
        return ExitCode.OK
    print(secret)
    print(
        f"assay: token {info.id} {info.name!r} ({', '.join(info.scopes)}); "
        "the secret above is shown only now",
        file=sys.stderr,
    )
    return ExitCode.OK


def _list(args: argparse.Namespace) -> int:
    from assay.api import open_store
    from assay.store.tokens import list_tokens

    store = open_store(_settings(args))
    try:
        found = list_tokens(store)
    finally:
        store.close()
    if args.json:
        print_json(found)
        return ExitCode.OK
    print_table(
        ("ID", "NAME", "SCOPES", "CREATED", "LAST USED", "STATE"),
        [
            (
                t.id,
                t.name,
                ",".join(t.scopes),
                t.created_at.strftime("%Y-%m-%d %H:%M"),
                t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never",
                "revoked" if t.revoked else "active",
            )
            for t in found
        ],
    )
    return ExitCode.OK


def _revoke(args: argparse.Namespace) -> int:
    from assay.api import open_store
    from assay.store.tokens import revoke_token

    store = open_store(_settings(args))
    try:
        info = revoke_token(store, args.id)
    finally:
        store.close()
    print(f"revoked token {info.id} {info.name!r}")
    return ExitCode.OK
