"""`bulk-onboard check`: the local preflight only (DNS, IMAP login, SMTP AUTH); no API call."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from bulk_onboard.commands.options import (
    add_read_options,
    count,
    finished,
    watch_options,
)
from bulk_onboard.preflight.options import add_preflight_options, preflight_settings
from bulk_onboard.settings import DEFAULT_CONCURRENCY


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chk = sub.add_parser(
        "check",
        allow_abbrev=False,
        help="local preflight only: DNS, IMAP login and SMTP AUTH per row; no API call",
    )
    add_read_options(chk)
    chk.add_argument(
        "--concurrency",
        type=count,
        default=DEFAULT_CONCURRENCY,
        help=f"rows checked at once at most (default {DEFAULT_CONCURRENCY})",
    )
    # `--timeout` was check's name for it; `run --timeout` is the API's deadline.
    add_preflight_options(chk, timeout_aliases=("--timeout",))


def main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard import library

    os.umask(0o077)
    preflight = preflight_settings(args, args.concurrency)
    return finished(
        lambda: library.check(
            args.input,
            **watch_options(args, argv),
            preflight=preflight,
        ),
        args.log_format,
    )
