"""`bulk-onboard validate`: read, normalise and validate only; no network. Shows the mapping."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from bulk_onboard.commands.options import add_read_options, finished, watch_options
from bulk_onboard.commands.run import workspace


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    val = sub.add_parser(
        "validate", allow_abbrev=False, help="read, normalise and validate only; no network"
    )
    add_read_options(val)
    val.add_argument(
        "--workspace",
        action="append",
        type=workspace,
        metavar="KIND=ID",
        help="check Google Workspace (google=ID) or Microsoft 365 (outlook=ID) rows as `run "
        "--workspace` would link them: with no password (repeatable)",
    )


def main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard import library

    os.umask(0o077)
    return finished(
        lambda: library.validate(
            args.input, workspaces=dict(args.workspace or ()), **watch_options(args, argv)
        ),
        args.log_format,
    )
