"""The preflight's command-line options, shared by `check`, `run --preflight` and `sandbox`."""

from __future__ import annotations

import argparse
from pathlib import Path

from bulk_onboard.errors import UsageError
from bulk_onboard.preflight.settings import (
    DEFAULT_CHECK_TIMEOUT_S,
    Nameserver,
    PreflightSettings,
    parse_nameserver,
)


def _nameserver(text: str) -> Nameserver:
    try:
        return parse_nameserver(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
    return value


TIMEOUT_FLAG = "--preflight-timeout"


def add_preflight_options(
    parser: argparse.ArgumentParser, *, timeout_aliases: tuple[str, ...] = ()
) -> None:
    """--dns, --ca-file, --allow-plaintext, --dkim-selector and --preflight-timeout.

    Every command names the per-check deadline --preflight-timeout; `timeout_aliases` are the
    names a command used before (`check --timeout`, `sandbox --verify-timeout`), still read.
    """
    group = parser.add_argument_group("preflight (local DNS, IMAP and SMTP checks)")
    group.add_argument(
        TIMEOUT_FLAG,
        *timeout_aliases,
        dest="check_timeout",
        type=_timeout,
        default=DEFAULT_CHECK_TIMEOUT_S,
        metavar="S",
        help=f"overall deadline of each check: DNS, IMAP login, SMTP AUTH "
        f"(default {DEFAULT_CHECK_TIMEOUT_S:g})",
    )
    group.add_argument(
        "--dns",
        type=_nameserver,
        action="append",
        metavar="IP:PORT",
        help="ask this DNS server only (repeatable; default: the system's resolvers)",
    )
    group.add_argument(
        "--ca-file",
        type=Path,
        metavar="PATH",
        help="trust only the CA certificates in this PEM bundle (default: the system's); "
        "certificates are always verified",
    )
    group.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="send passwords without TLS to servers that offer no STARTTLS (trusted networks)",
    )
    group.add_argument(
        "--dkim-selector",
        metavar="NAME",
        help="the DKIM selector to check (default: google, selector1, selector2, default, ...)",
    )


def preflight_settings(args: argparse.Namespace, concurrency: int) -> PreflightSettings:
    """The settings those options give; UsageError for a CA bundle that can't be used."""
    settings = PreflightSettings(
        timeout_s=args.check_timeout,
        concurrency=concurrency,
        nameservers=tuple(args.dns or ()),
        ca_file=args.ca_file,
        allow_plaintext=args.allow_plaintext,
        dkim_selector=args.dkim_selector,
    )
    import ssl  # loaded only when a command that checks runs, not for --help

    try:
        settings.tls_context()
    except (OSError, ssl.SSLError):
        raise UsageError(f"--ca-file {args.ca_file} is not a readable PEM bundle.") from None
    return settings
