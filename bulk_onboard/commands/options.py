"""What several commands share: number types, the reading and submitting options, the API key.

The command line is the only reader of the environment (`MAILREACH_API_KEY`,
`MAILREACH_API_URL`); everything below it is handed what it needs.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bulk_onboard.errors import BulkOnboardError, UsageError
from bulk_onboard.settings import (
    DEFAULT_API_URL,
    DEFAULT_BACKOFF_S,
    DEFAULT_CONCURRENCY,
    DEFAULT_GRACE_S,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RATE,
    DEFAULT_TIMEOUT_S,
)

if TYPE_CHECKING:
    from bulk_onboard.library import Reading, Submitting, Watching
    from bulk_onboard.runs.result import RunResult

KEY_ENV = "MAILREACH_API_KEY"
URL_ENV = "MAILREACH_API_URL"


def seconds(text: str) -> float:
    """A positive number of seconds."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
    return value


def grace(text: str) -> float:
    """Zero or more seconds."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def rate(text: str) -> float | None:
    """Requests per second; 0/none/unlimited means no limit."""
    if text.strip().lower() in ("none", "unlimited", "inf"):
        return None
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, not {text}")
    return value or None


def port(text: str) -> int:
    """A TCP port to listen on: 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 0 (any free port) to 65535, not {text}")
    return value


def count(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def add_log_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-format", choices=("text", "json"), default="text")


def add_read_options(p: argparse.ArgumentParser, *, input_optional: bool = False) -> None:
    """The input and how to read it, --provider, --out, logging and progress."""
    p.add_argument(
        "input",
        nargs="?" if input_optional else None,
        help="a .csv/.tsv/.txt/.xlsx/.xlsm file, or - for CSV on standard input",
    )
    p.add_argument("--sheet", help="the workbook sheet to read (default: the first)")
    p.add_argument("--encoding", help="the text encoding (default: UTF-8, else Windows-1252)")
    p.add_argument("--delimiter", help="the delimiter: , ; tab | (default: sniffed)")
    p.add_argument(
        "--provider",
        choices=("gmail", "outlook", "custom"),
        help="provider for rows that name none and can't be inferred",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("output"),
        help="parent folder of run folders (default: ./output)",
    )
    add_log_format(p)
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar, and no progress log lines"
    )


def add_submit_options(run: argparse.ArgumentParser) -> None:
    """Options of the commands that submit rows to the API: run and sync."""
    run.add_argument("--api-url", help=f"API base before /v1 (env {URL_ENV}, else the real one)")
    run.add_argument(
        "--api-key-file",
        type=Path,
        help=f"file holding the API key, mode 0600 (default: env {KEY_ENV})",
    )
    run.add_argument(
        "--bearer", action="store_true", help="send the key as 'X-Api-Key: Bearer <key>'"
    )
    run.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow an http:// --api-url beyond loopback (the key and passwords travel readable)",
    )
    run.add_argument(
        "--user-agent",
        metavar="TEXT",
        help="the User-Agent header sent to the API (default: bulk-onboard/VERSION)",
    )
    run.add_argument(
        "--rate",
        type=rate,
        default=DEFAULT_RATE,
        help=f"requests per second, never exceeded (default {DEFAULT_RATE:g}; 0 = unlimited)",
    )
    run.add_argument(
        "--concurrency",
        type=count,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at most (default {DEFAULT_CONCURRENCY})",
    )
    run.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT_S,
        help="overall deadline of one request in seconds (default 60)",
    )
    run.add_argument(
        "--max-attempts",
        type=count,
        default=DEFAULT_MAX_ATTEMPTS,
        help="tries per row for retryable failures (default 5)",
    )
    run.add_argument(
        "--backoff",
        type=seconds,
        default=DEFAULT_BACKOFF_S,
        help="base of the 1-2-4-8 x backoff between retries, seconds (default 1)",
    )
    run.add_argument(
        "--grace",
        type=grace,
        default=DEFAULT_GRACE_S,
        help="after Ctrl-C/SIGTERM, seconds in-flight requests may finish (default 10)",
    )
    run.add_argument(
        "--sandbox",
        action="store_true",
        help="run against a local sandbox API started in-process (no key needed)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="send test: true — MailReach tests the logins and saves nothing",
    )


def read_api_key(key_file: Path | None) -> str | None:
    """The key from --api-key-file (refused if group/world readable), else the environment."""
    if key_file is not None:
        try:
            mode = key_file.stat().st_mode
        except OSError as error:
            # Not echoed: what was given may be the key itself, pasted where its path goes.
            raise UsageError(
                f"The file given to --api-key-file can't be read ({error.strerror}): "
                "check its path."
            ) from None
        if stat.S_ISDIR(mode):
            raise UsageError(f"The API key file {key_file} is a directory: name the file in it.")
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UsageError(
                f"The API key file {key_file} is readable by other users: "
                f"run `chmod 600 {key_file}` first."
            )
        try:
            key = key_file.read_text(encoding="utf-8", errors="replace").strip()
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise UsageError(f"The API key file {key_file} can't be read ({reason}).") from None
        if not key:
            raise UsageError(f"The API key file {key_file} is empty.")
        return _one_word(key, f"The API key file {key_file}")
    key = os.environ.get(KEY_ENV, "").strip()
    return _one_word(key, KEY_ENV) if key else None


def _one_word(key: str, where: str) -> str:
    """The key, unless a space or line break inside it shows more than a key (never echoed)."""
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise UsageError(
            f"{where} holds more than the API key (a space, a line break or a control character "
            "inside it): keep only the key, on one line."
        )
    return key


def api_options(args: argparse.Namespace, argv: Sequence[str]) -> Submitting:
    """The Python API's options of a submitting command (run, sync), the key included.

    Raises UsageError when there is no key and no --sandbox.
    """
    # Read even with --sandbox: an --api-key-file that is no private file (the key itself, pasted
    # where its path goes) is refused, never recorded in manifest.json's command line.
    key = read_api_key(args.api_key_file)
    if args.sandbox:
        key = None
        if args.api_url:
            raise UsageError(
                "--sandbox and --api-url both name the API to use: pass one of them (the "
                "sandbox is served on a free loopback port of its own)."
            )
    if not args.sandbox and key is None:
        raise UsageError(
            f"No API key: set {KEY_ENV}, or pass --api-key-file PATH (or try --sandbox)."
        )
    os.umask(0o077)  # every report, journal, state and folder is private to the user
    return {
        **watch_options(args, argv),
        "api_key": key,
        "api_url": args.api_url or os.environ.get(URL_ENV) or DEFAULT_API_URL,
        "sandbox": args.sandbox,
        "bearer": args.bearer,
        "insecure_http": args.insecure_http,
        **({"user_agent": args.user_agent} if args.user_agent else {}),
        "rate": args.rate,
        "concurrency": args.concurrency,
        "timeout_s": args.timeout,
        "max_attempts": args.max_attempts,
        "backoff_s": args.backoff,
        "grace_s": args.grace,
        "dry_run": args.dry_run,
    }


def watch_options(args: argparse.Namespace, argv: Sequence[str]) -> Watching:
    """The reading options, the progress bar (only on a terminal) and the command line."""
    return {
        **read_options(args),
        "progress_bar": not args.no_progress and sys.stderr.isatty(),
        "progress_lines": not args.no_progress,
        "command_line": argv,
    }


def read_options(args: argparse.Namespace) -> Reading:
    """The Python API's reading options: the sheet, encoding, delimiter, provider and --out.

    Input "-" is read here, before any event loop runs: a Ctrl-C while it waits for standard
    input (a pipe that never ends, a forgotten `<`) then ends the command with 130 at once,
    where a read inside the loop would hold the signal until the input ended.
    """
    options: Reading = {
        "provider": args.provider,
        "sheet": args.sheet,
        "encoding": args.encoding,
        "delimiter": args.delimiter,
        "out": args.out,
    }
    if getattr(args, "input", None) == "-":
        options["stdin"] = sys.stdin.buffer.read()
    return options


def finished(job: Callable[[], RunResult], log_format: str) -> int:
    """Run a job, print the summary of the run folder it wrote, and return its exit code.

    A job that stopped after writing its folder (key refused, API gone, a signal) has its
    summary printed too; an error before any folder was written is left to the caller.
    """
    from bulk_onboard.runs.summary_table import print_summary

    try:
        result = job()
    except BulkOnboardError as error:
        if error.run_dir is None:
            raise
        print_summary(error.run_dir, as_json=log_format == "json")
        return error.exit_code
    print_summary(result.run_dir, as_json=log_format == "json")
    return result.exit_code
