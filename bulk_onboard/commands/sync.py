"""`bulk-onboard sync`: the scheduled re-sync (new, changed and failed rows; drift reported)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from bulk_onboard.commands.options import (
    add_read_options,
    add_submit_options,
    api_options,
    grace,
)
from bulk_onboard.errors import BulkOnboardError
from bulk_onboard.sync.drift import DEFAULT_SCORE_DELTA

log = logging.getLogger("bulk_onboard")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser(
        "sync",
        allow_abbrev=False,
        help="the scheduled re-sync: submit new, changed and failed rows; report drift",
    )
    add_read_options(sync)
    add_submit_options(sync)
    sync.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help="the sync state, SQLite (default: OUT/sync-state.sqlite); .key and .lock beside it",
    )
    sync.add_argument(
        "--all",
        action="store_true",
        help="re-submit every row, changed or not (ids still come from MailReach)",
    )
    sync.add_argument(
        "--score-delta",
        type=grace,
        default=DEFAULT_SCORE_DELTA,
        metavar="N",
        help="report a score in changes.csv when it moved by more than N (default 5)",
    )


def main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard import library
    from bulk_onboard.sync.summary import print_result

    options = api_options(args, argv)
    as_json = args.log_format == "json"
    try:
        result = library.sync(
            args.input,
            **options,
            state=args.state,
            resubmit_all=args.all,
            score_delta=args.score_delta,
        )
    except BulkOnboardError as error:
        if error.run_dir is None:
            # A scheduler still gets its summary line: the exit code and the one sentence.
            log.error(
                "error: %s", error, extra={"event": "error", "exit_code": int(error.exit_code)}
            )
        print_result(error.exit_code, error.run_dir, str(error), as_json=as_json)
        return error.exit_code
    print_result(result.exit_code, result.run_dir, "", as_json=as_json)
    return result.exit_code
