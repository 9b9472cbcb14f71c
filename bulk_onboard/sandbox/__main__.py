"""`python -m bulk_onboard.sandbox [--port 0] [knobs]`: the sandbox as its own process."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bulk_onboard.errors import UsageError
from bulk_onboard.preflight.options import add_preflight_options, preflight_settings
from bulk_onboard.preflight.settings import DEFAULT_CONCURRENCY
from bulk_onboard.sandbox.config import DEFAULT_API_KEY, DEFAULT_PORT, SandboxConfig
from bulk_onboard.sandbox.server import SandboxStartError, serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bulk_onboard.sandbox",
        description="Serve a local MailReach-compatible API until SIGINT or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the key clients must send")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="uniform, added to latency")
    parser.add_argument("--rate-limit", type=float, help="429 past R requests in any 1 s window")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction answered 503")
    parser.add_argument("--reset-rate", type=float, default=0.0, help="fraction dropped unanswered")
    parser.add_argument("--db", help="keep accounts in this SQLite file instead of memory")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault knobs' RNG")
    parser.add_argument("--revoke-after", type=int, help="refuse the key after N imap_auth calls")
    parser.add_argument("--page-size", type=int, default=100, help="GET /v1/accounts page size")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="really log in to the IMAP/SMTP servers of each request and read their DNS",
    )
    add_preflight_options(parser, timeout_flag="--verify-timeout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the knobs, serve, and return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = SandboxConfig(
            api_key=args.api_key,
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            rate_limit=args.rate_limit,
            fail_rate=args.fail_rate,
            reset_rate=args.reset_rate,
            db=args.db,
            seed=args.seed,
            revoke_after=args.revoke_after,
            page_size=args.page_size,
            verify=preflight_settings(args, DEFAULT_CONCURRENCY) if args.verify else None,
        )
    except (ValueError, UsageError) as exc:
        parser.error(str(exc))
    try:
        serve(config, args.host, args.port)
    except SandboxStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
