"""`bulk-onboard run`: read, validate, submit and report (the main job)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from bulk_onboard.commands.options import (
    add_read_options,
    add_submit_options,
    api_options,
    finished,
)
from bulk_onboard.preflight.options import add_preflight_options, preflight_settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", allow_abbrev=False, help="read, validate, submit and report (the main job)"
    )
    add_read_options(run, input_optional=True)
    again = run.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="finish an interrupted run in its folder; settled rows are not resent",
    )
    again.add_argument(
        "--retry-failed",
        type=Path,
        metavar="RUN_DIR",
        help="a new run of the rows that failed or were unprocessed in RUN_DIR",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="with --resume: carry on even though the input changed since",
    )
    add_submit_options(run)
    run.add_argument(
        "--no-lookup",
        action="store_true",
        help="don't list MailReach's accounts first: for a sheet of new mailboxes only",
    )
    run.add_argument(
        "--preflight",
        action="store_true",
        help="check each row locally first (DNS, IMAP login, SMTP AUTH); failing rows are not sent",
    )
    run.add_argument(
        "--set",
        action="append",
        type=setting,
        metavar="FIELD=VALUE",
        help="an account setting for rows whose sheet leaves it blank, e.g. "
        "config_rampup_target=20 (repeatable; README lists the fields and ranges)",
    )
    run.add_argument(
        "--workspace",
        action="append",
        type=workspace,
        metavar="KIND=ID",
        help="link Google Workspace (google=ID) or Microsoft 365 (outlook=ID) rows through "
        "that email workspace, in batches, with no password (repeatable)",
    )
    add_preflight_options(run)


def workspace(text: str) -> tuple[str, int]:
    """`google=ID` or `outlook=ID`."""
    kind, sep, number = text.partition("=")
    kind = kind.strip().lower()
    if not sep or kind not in ("google", "outlook") or not number.strip().isdigit():
        raise argparse.ArgumentTypeError(f"takes google=ID or outlook=ID, not {text!r}")
    return kind, int(number)


def setting(text: str) -> tuple[str, bool | int | str]:
    """`FIELD=VALUE`, checked against MailReach's range for FIELD."""
    from bulk_onboard.rows.account_settings import parse_setting

    try:
        return parse_setting(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard import library

    options = api_options(args, argv)
    preflight = preflight_settings(args, args.concurrency) if args.preflight else None
    return finished(
        lambda: library.run(
            args.input,
            **options,
            preflight=preflight,
            resume=args.resume,
            retry_failed=args.retry_failed,
            force=args.force,
            lookup=not args.no_lookup,
            account_settings=dict(args.set or ()),
            workspaces=dict(args.workspace or ()),
        ),
        args.log_format,
    )
