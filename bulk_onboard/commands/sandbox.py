"""`bulk-onboard sandbox`: serve the local MailReach-compatible API until stopped."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from bulk_onboard.api.endpoint import is_loopback
from bulk_onboard.base.printable import printable
from bulk_onboard.commands.options import port
from bulk_onboard.errors import ExitCode, UsageError
from bulk_onboard.preflight.options import add_preflight_options, preflight_settings
from bulk_onboard.sandbox.config import DEFAULT_API_KEY
from bulk_onboard.settings import DEFAULT_CONCURRENCY


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    box = sub.add_parser(
        "sandbox", allow_abbrev=False, help="serve the local MailReach-compatible API until stopped"
    )
    box.add_argument("--host", default="127.0.0.1")
    box.add_argument("--port", type=port, default=8025, help="0 picks a free port")
    box.add_argument(
        "--api-key",
        dest="sandbox_key",
        help=f"the key the sandbox accepts (default {DEFAULT_API_KEY!r}, on loopback only)",
    )
    box.add_argument("--latency-ms", type=float, default=0.0)
    box.add_argument("--jitter-ms", type=float, default=0.0, help="uniform, added to latency")
    box.add_argument("--rate-limit", type=float, default=None, help="429 past R requests/s")
    box.add_argument("--fail-rate", type=float, default=0.0, help="fraction answered 503")
    box.add_argument("--reset-rate", type=float, default=0.0, help="fraction dropped")
    box.add_argument(
        "--fail-first",
        type=int,
        default=0,
        help="answer 503 to the first N imap_auth requests of each email",
    )
    box.add_argument("--db", help="keep accounts in this SQLite file (default: memory)")
    box.add_argument("--seed", type=int, default=0, help="seed of the fault knobs' RNG")
    box.add_argument(
        "--revoke-after",
        type=int,
        default=None,
        help="refuse the key after N imap_auth requests (tests)",
    )
    box.add_argument("--page-size", type=int, default=100, help="GET /v1/accounts page size")
    box.add_argument(
        "--no-upsert",
        dest="upsert",
        action="store_false",
        help="refuse imap_auth without id for an email that has an account (422)",
    )
    box.add_argument(
        "--verify",
        action="store_true",
        help="really log in to the IMAP/SMTP servers of each request and read their DNS",
    )
    add_preflight_options(box, timeout_aliases=("--verify-timeout",))


def sandbox_key(host: str, key: str | None) -> str:
    """The key the sandbox will accept: its public default only when bound to loopback."""
    if key is None and not is_loopback(host):
        raise UsageError(
            f"The sandbox would listen on {printable(host or 'every address', 80)}, beyond this "
            f"machine, with the public default key {DEFAULT_API_KEY!r}: pass --api-key with a "
            "key of your own, or keep --host 127.0.0.1."
        )
    return key or DEFAULT_API_KEY


def main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard.sandbox import SandboxConfig, serve

    os.umask(0o077)  # the --db file and its journal are the user's own
    try:
        config = SandboxConfig(
            api_key=sandbox_key(args.host, args.sandbox_key),
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            rate_limit=args.rate_limit,
            fail_rate=args.fail_rate,
            fail_first=args.fail_first,
            reset_rate=args.reset_rate,
            db=args.db,
            seed=args.seed,
            revoke_after=args.revoke_after,
            page_size=args.page_size,
            upsert=args.upsert,
            verify=preflight_settings(args, DEFAULT_CONCURRENCY) if args.verify else None,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    serve(config, host=args.host, port=args.port)
    return ExitCode.OK
