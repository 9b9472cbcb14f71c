"""The command line: `bulk-onboard run|validate|sandbox`. The only reader of the environment."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import signal
import stat
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bulk_onboard import __version__
from bulk_onboard.api.client import ApiConfig
from bulk_onboard.engine import event_loop
from bulk_onboard.errors import BulkOnboardError, ExitCode, UsageError
from bulk_onboard.logs import setup_logging
from bulk_onboard.preflight.options import add_preflight_options, preflight_settings
from bulk_onboard.runs.summary_table import print_summary
from bulk_onboard.settings import (
    DEFAULT_API_URL,
    DEFAULT_CONCURRENCY,
    DEFAULT_GRACE_S,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RATE,
    DEFAULT_TIMEOUT_S,
    ReadOptions,
    RunSettings,
)
from bulk_onboard.sync.drift import DEFAULT_SCORE_DELTA

log = logging.getLogger("bulk_onboard")
KEY_ENV = "MAILREACH_API_KEY"
URL_ENV = "MAILREACH_API_URL"
_KEY_FLAGS = ("--api-key", "--key", "--apikey")


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
    if text.strip().lower() in ("0", "none", "unlimited", "inf"):
        return None
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
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


def _add_log_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-format", choices=("text", "json"), default="text")


def _add_read_options(p: argparse.ArgumentParser, *, input_optional: bool = False) -> None:
    p.add_argument(
        "input",
        nargs="?" if input_optional else None,
        help="a .csv/.tsv/.txt/.xlsx file, or - for CSV on standard input",
    )
    p.add_argument("--sheet", help="the .xlsx sheet to read (default: the first)")
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
    _add_log_format(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulk-onboard",
        description="Onboard a spreadsheet of mailboxes into MailReach (POST /v1/imap_auth).",
    )
    parser.add_argument("--version", action="version", version=f"bulk-onboard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="read, validate, submit and report (the main job)")
    _add_read_options(run, input_optional=True)
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
    _add_submit_options(run)
    run.add_argument(
        "--preflight",
        action="store_true",
        help="check each row locally first (DNS, IMAP login, SMTP AUTH); failing rows are not sent",
    )
    add_preflight_options(run, timeout_flag="--preflight-timeout")

    sync = sub.add_parser(
        "sync", help="the scheduled re-sync: submit new, changed and failed rows; report drift"
    )
    _add_read_options(sync)
    _add_submit_options(sync)
    _add_sync_options(sync)

    val = sub.add_parser("validate", help="read, normalise and validate only; no network")
    _add_read_options(val)

    chk = sub.add_parser(
        "check", help="local preflight only: DNS, IMAP login and SMTP AUTH per row; no API call"
    )
    _add_read_options(chk)
    chk.add_argument(
        "--concurrency",
        type=count,
        default=DEFAULT_CONCURRENCY,
        help=f"rows checked at once at most (default {DEFAULT_CONCURRENCY})",
    )
    add_preflight_options(chk, timeout_flag="--timeout")

    rep = sub.add_parser(
        "report", help="(re)build results.xlsx and report.html of a run folder from its reports"
    )
    rep.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a run folder, e.g. output/latest"
    )
    _add_log_format(rep)

    box = sub.add_parser("sandbox", help="serve the local MailReach-compatible API until stopped")
    box.add_argument("--host", default="127.0.0.1")
    box.add_argument("--port", type=int, default=8025, help="0 picks a free port")
    box.add_argument(
        "--api-key",
        dest="sandbox_key",
        default="sandbox",
        help="the key the sandbox accepts (a test value, not a secret)",
    )
    box.add_argument("--latency-ms", type=float, default=0.0)
    box.add_argument("--jitter-ms", type=float, default=0.0, help="uniform, added to latency")
    box.add_argument("--rate-limit", type=float, default=None, help="429 past R requests/s")
    box.add_argument("--fail-rate", type=float, default=0.0, help="fraction answered 503")
    box.add_argument("--reset-rate", type=float, default=0.0, help="fraction dropped")
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
        "--verify",
        action="store_true",
        help="really log in to the IMAP/SMTP servers of each request and read their DNS",
    )
    add_preflight_options(box, timeout_flag="--verify-timeout")
    return parser


def _add_submit_options(run: argparse.ArgumentParser) -> None:
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
        default=1.0,
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


def _add_sync_options(sync: argparse.ArgumentParser) -> None:
    """Options of `sync` only."""
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


def read_api_key(key_file: Path | None) -> str | None:
    """The key from --api-key-file (refused if group/world readable), else the environment."""
    if key_file is not None:
        try:
            mode = key_file.stat().st_mode
        except OSError:
            raise UsageError(f"The API key file {key_file} can't be read.") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UsageError(
                f"The API key file {key_file} is readable by other users: "
                f"run `chmod 600 {key_file}` first."
            )
        key = key_file.read_text(encoding="utf-8", errors="replace").strip()
        if not key:
            raise UsageError(f"The API key file {key_file} is empty.")
        return key
    return os.environ.get(KEY_ENV, "").strip() or None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] != ["sandbox"] and any(a.split("=", 1)[0] in _KEY_FLAGS for a in args_list):
        print(
            f"error: The API key is never accepted on the command line (other users can read "
            f"it); set {KEY_ENV} or use --api-key-file PATH.",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    args = build_parser().parse_args(args_list)
    setup_logging(getattr(args, "log_format", "text"))
    try:
        if args.command == "sandbox":
            return _sandbox(args)
        if args.command == "validate":
            return _validate(args)
        if args.command == "report":
            return _report(args)
        if args.command == "check":
            return _check(args, args_list)
        if args.command == "sync":
            return _sync(args, args_list)
        return _run(args, args_list)
    except BulkOnboardError as error:
        log.error("error: %s", error, extra={"event": "error"})
        return error.exit_code
    except KeyboardInterrupt:
        return ExitCode.SIGINT
    finally:
        # The job is over and its reports are written: a late second Ctrl-C or SIGTERM must not
        # turn the exit code it earned into a death by signal.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)


def _stdin_bytes(input_path: str) -> bytes | None:
    return sys.stdin.buffer.read() if input_path == "-" else None


def _run_settings(args: argparse.Namespace, input_path: str, key: str | None) -> RunSettings:
    """The settings of a submitting command (run, sync) from its options and the environment."""
    return RunSettings(
        input=input_path,
        out=args.out,
        api=ApiConfig(
            base_url=args.api_url or os.environ.get(URL_ENV) or DEFAULT_API_URL,
            api_key=key or "",
            bearer=args.bearer,
            timeout_s=args.timeout,
            concurrency=args.concurrency,
        ),
        read=ReadOptions(args.sheet, args.encoding, args.delimiter),
        rate=args.rate,
        max_attempts=args.max_attempts,
        backoff_base_s=args.backoff,
        grace_s=args.grace,
        dry_run=args.dry_run,
        default_provider=args.provider,
        progress_bar=not args.no_progress and sys.stderr.isatty(),
    )


def _run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard.jobs.run import RunMode, run_job
    from bulk_onboard.runs.previous import load_previous

    key = None if args.sandbox else read_api_key(args.api_key_file)
    if not args.sandbox and key is None:
        raise UsageError(
            f"No API key: set {KEY_ENV}, or pass --api-key-file PATH (or try --sandbox)."
        )
    os.umask(0o077)  # every report, journal and folder is private to the user
    if args.force and args.resume is None:
        raise UsageError("--force only applies with --resume RUN_DIR.")
    mode = RunMode(args.resume, args.retry_failed, args.force)
    input_path = args.input
    if input_path is None:
        earlier = mode.resume or mode.retry_failed
        if earlier is None:
            raise UsageError("Name the input file: bulk-onboard run INPUT (or --resume RUN_DIR).")
        input_path = load_previous(earlier).input_path
    settings = _run_settings(args, input_path, key)
    stdin = _stdin_bytes(input_path)

    async def go() -> tuple[ExitCode, Path]:
        async with _maybe_sandbox(args.sandbox) as sandbox:
            run_settings = settings
            if sandbox is not None:
                url, sandbox_key = sandbox
                api = ApiConfig(
                    url,
                    sandbox_key,
                    settings.api.bearer,
                    settings.api.timeout_s,
                    settings.api.concurrency,
                )
                run_settings = dataclasses.replace(settings, api=api)
            preflight = preflight_settings(args, args.concurrency) if args.preflight else None
            return await run_job(run_settings, argv, stdin, mode, preflight)

    code, run_dir = event_loop.run(go())
    _close(run_dir, args.log_format)
    return code


def _close(run_dir: Path, log_format: str) -> None:
    """The end of every job: render the reports people open, then print the summary."""
    from bulk_onboard.reports.render import render_reports_apart

    render_reports_apart(run_dir, log_format)
    print_summary(run_dir, as_json=log_format == "json")


def _report(args: argparse.Namespace) -> int:
    from bulk_onboard.reports.render import RENDERERS, render_reports

    os.umask(0o077)
    written = render_reports(args.run_dir)
    for path in written:
        print(path)
    return ExitCode.OK if len(written) == len(RENDERERS) else ExitCode.SOME_FAILED


@contextlib.asynccontextmanager
async def _maybe_sandbox(enabled: bool) -> AsyncIterator[tuple[str, str] | None]:
    if not enabled:
        yield None
        return
    from bulk_onboard.sandbox import SandboxConfig, running_sandbox

    key = secrets.token_urlsafe(16)
    async with running_sandbox(SandboxConfig(api_key=key)) as sandbox:
        log.info("Using the local sandbox API at %s", sandbox.base_url)
        yield sandbox.base_url, key


def _sync(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard.jobs.sync import SyncSettings, default_state_path, sync_job
    from bulk_onboard.sync.summary import print_result

    key = None if args.sandbox else read_api_key(args.api_key_file)
    if not args.sandbox and key is None:
        raise UsageError(
            f"No API key: set {KEY_ENV}, or pass --api-key-file PATH (or try --sandbox)."
        )
    os.umask(0o077)  # the state, its key, its lock and every report are private to the user
    run = _run_settings(args, args.input, key)
    settings = SyncSettings(
        run, args.state or default_state_path(args.out), args.all, args.score_delta
    )
    stdin = _stdin_bytes(args.input)

    async def go() -> tuple[ExitCode, Path | None, str]:
        async with _maybe_sandbox(args.sandbox) as sandbox:
            if sandbox is not None:
                url, sandbox_key = sandbox
                api = dataclasses.replace(run.api, base_url=url, api_key=sandbox_key)
                sandboxed = dataclasses.replace(run, api=api)
                return await sync_job(dataclasses.replace(settings, run=sandboxed), argv, stdin)
            return await sync_job(settings, argv, stdin)

    code, run_dir, error = event_loop.run(go())
    if run_dir is not None:
        from bulk_onboard.reports.render import render_reports_apart

        render_reports_apart(run_dir, args.log_format)
    print_result(code, run_dir, error, as_json=args.log_format == "json")
    return code


def _validate(args: argparse.Namespace) -> int:
    from bulk_onboard.jobs.validate import validate_job

    os.umask(0o077)
    read = ReadOptions(args.sheet, args.encoding, args.delimiter)
    code, run_dir = validate_job(
        args.input, args.out, read, args.provider, _stdin_bytes(args.input)
    )
    _close(run_dir, args.log_format)
    return code


def _check(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bulk_onboard.jobs.check import CheckJob, check_job

    os.umask(0o077)
    job = CheckJob(
        input=args.input,
        out=args.out,
        read=ReadOptions(args.sheet, args.encoding, args.delimiter),
        preflight=preflight_settings(args, args.concurrency),
        default_provider=args.provider,
        progress_bar=not args.no_progress and sys.stderr.isatty(),
    )
    code, run_dir = asyncio.run(check_job(job, argv, _stdin_bytes(args.input)))
    _close(run_dir, args.log_format)
    return code


def _sandbox(args: argparse.Namespace) -> int:
    from bulk_onboard.sandbox import SandboxConfig, serve

    try:
        config = SandboxConfig(
            api_key=args.sandbox_key,
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
    except ValueError as error:
        raise UsageError(str(error)) from None
    serve(config, host=args.host, port=args.port)
    return ExitCode.OK
