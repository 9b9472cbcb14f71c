"""`bulk-onboard report RUN_DIR`: (re)build results.xlsx and report.html of a run folder."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from bulk_onboard.commands.options import add_log_format
from bulk_onboard.errors import ExitCode


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser(
        "report",
        allow_abbrev=False,
        help="(re)build results.xlsx and report.html of a run folder from its reports",
    )
    rep.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a run folder, e.g. output/latest"
    )
    add_log_format(rep)


def main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard import library
    from bulk_onboard.reports.render import RENDERERS

    os.umask(0o077)
    written = library.report(args.run_dir)
    for path in written:
        print(path)
    return ExitCode.OK if len(written) == len(RENDERERS) else ExitCode.SOME_FAILED
