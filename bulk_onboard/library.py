"""The Python API: `run`, `validate`, `check`, `sync` and `report`, and async twins of the jobs.

The command line is a thin shell over these. Each job writes one run folder exactly as the
command of the same name does, renders its results.xlsx and report.html, and returns a
`RunResult` when it ends with exit code 0 (every row succeeded, was valid or was skipped) or 1
(some rows failed or are unprocessed). Every other exit code is a typed exception of
`bulk_onboard.errors`: `UsageError` 2, `InputError` 65, `InputMissingError` 66,
`ApiUnavailableError` 69, `OutputError` 73, `LockedError` 75, `KeyRefusedError` 77,
`RunInterrupted` 130/143; its `run_dir` names the run folder when one was written. The API
key is passed in, never read from the environment here: that is the command line's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import Any, BinaryIO, ParamSpec, TypedDict

from typing_extensions import Unpack

from bulk_onboard.api.config import USER_AGENT, ApiConfig
from bulk_onboard.api.endpoint import check_api_url
from bulk_onboard.engine import event_loop
from bulk_onboard.errors import ExitCode, UsageError, error_for
from bulk_onboard.preflight.settings import PreflightSettings
from bulk_onboard.runs.create import check_out
from bulk_onboard.runs.result import RunResult
from bulk_onboard.settings import (
    DEFAULT_API_URL,
    DEFAULT_BACKOFF_S,
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
# What a job ends with: its exit code, its run folder (if one was made), and an error sentence.
Ending = tuple[ExitCode, Path | None, str]
PathLike = str | os.PathLike[str]
DEFAULT_OUT = Path("output")
P = ParamSpec("P")
Job = Callable[P, Coroutine[Any, Any, Ending]]
Loop = Callable[[Coroutine[Any, Any, Ending]], Ending]


class Reading(TypedDict, total=False):
    """How every job reads its input and where it writes."""

    provider: str | None  # gmail, outlook or custom, for rows that name none
    sheet: str | None  # the .xlsx sheet (default: the first)
    encoding: str | None  # default: UTF-8, else Windows-1252
    delimiter: str | None  # default: sniffed
    out: PathLike  # the parent folder of run folders (default ./output)
    stdin: bytes | BinaryIO | None  # what input "-" reads (default: standard input)


class Watching(Reading, total=False):
    """What the jobs that take a while add: a progress bar, and the command line to record."""

    progress_bar: bool  # a tqdm bar (default: a log line every few seconds)
    progress_lines: bool  # without the bar, those log lines (default True)
    command_line: Sequence[str]  # recorded in manifest.json as given: never put a secret in it


class Submitting(Watching, total=False):
    """How `run` and `sync` reach MailReach. Left out, each takes the command line's default."""

    api_key: str | None  # needed unless `sandbox`; never logged or stored
    api_url: str  # the part before /v1/...
    sandbox: bool  # start a local sandbox API for the job and use it (no key needed)
    bearer: bool  # send the key as "X-Api-Key: Bearer <key>"
    insecure_http: bool  # allow an http:// api_url beyond loopback
    user_agent: str  # the User-Agent header (default: bulk-onboard/VERSION)
    rate: float | None  # requests per second, never exceeded; None: unlimited
    concurrency: int  # requests in flight at most
    timeout_s: float  # overall deadline of one request
    max_attempts: int  # tries per row for retryable failures
    backoff_s: float  # base of the 1-2-4-8 x backoff between retries
    grace_s: float  # after a signal, how long in-flight requests may finish
    dry_run: bool  # send test: true; MailReach saves nothing


async def _run(
    input: PathLike | None = None,
    *,
    preflight: PreflightSettings | None = None,
    resume: PathLike | None = None,
    retry_failed: PathLike | None = None,
    force: bool = False,
    lookup: bool = True,
    account_settings: Mapping[str, bool | int | str] | None = None,
    workspaces: Mapping[str, int] | None = None,
    **options: Unpack[Submitting],
) -> Ending:
    """The main job: read `input`, validate every row, submit the valid ones, report every row.

    `input` may be None with `resume` or `retry_failed`: the earlier run's input is read again.
    `preflight` checks each row locally first (DNS, IMAP login, SMTP AUTH) and keeps rows failing
    it from being sent. `lookup=False` skips listing MailReach's accounts before sending (for a
    sheet of new mailboxes only: existing ones are then sent without their id). The options
    are `Submitting`'s (api_key, api_url, sandbox, rate, ...). `account_settings` (the command
    line's `--set`) gives MailReach account settings, such as `{"config_rampup_target": 20}`,
    to every connected row whose sheet leaves them blank. `workspaces` (`--workspace`) names
    the email workspace of each kind, `{"google": 12}`: Google Workspace (and, with "outlook",
    Microsoft 365) rows are linked through it in batches, with no password.
    """
    from bulk_onboard.jobs.run import RunMode, run_job
    from bulk_onboard.runs.previous import load_previous

    if force and resume is None:
        raise UsageError("--force only applies with --resume RUN_DIR.")
    mode = RunMode(_path(resume), _path(retry_failed), force)
    if input is None:
        earlier = mode.resume or mode.retry_failed
        if earlier is None:
            raise UsageError("Name the input file: bulk-onboard run INPUT (or --resume RUN_DIR).")
        input = load_previous(earlier).input_path
    settings = dataclasses.replace(
        _run_settings(input, options),
        lookup=lookup,
        account_settings=_checked_settings(account_settings or {}),
        workspaces=_checked_workspaces(workspaces or {}),
    )
    if mode.resume is None:  # --resume writes into the earlier run's folder
        check_out(settings.out)
    data = _stdin_bytes(settings.input, options)
    async with _reaching_the_api(settings, options.get("sandbox", False)) as settings:
        code, run_dir = await run_job(
            settings, options.get("command_line", ()), data, mode, preflight
        )
    return code, run_dir, ""


async def _sync(
    input: PathLike,
    *,
    state: PathLike | None = None,
    resubmit_all: bool = False,
    score_delta: float = DEFAULT_SCORE_DELTA,
    **options: Unpack[Submitting],
) -> Ending:
    """The scheduled re-sync: submit new, changed and failed rows; skip unchanged; report drift.

    `state` is the SQLite state (default OUT/sync-state.sqlite; its .key and .lock beside it);
    `resubmit_all` re-sends every row; a score that moved by more than `score_delta` is a
    change. The options are `run`'s.
    """
    from bulk_onboard.jobs.sync import SyncSettings, default_state_path, sync_job

    run = _run_settings(input, options)
    check_out(run.out)
    state_path = Path(state) if state is not None else default_state_path(run.out)
    data = _stdin_bytes(run.input, options)
    async with _reaching_the_api(run, options.get("sandbox", False)) as run:
        settings = SyncSettings(run, state_path, resubmit_all, score_delta)
        code, run_dir = await sync_job(settings, options.get("command_line", ()), data)
    return code, run_dir, ""


async def _check(
    input: PathLike, *, preflight: PreflightSettings | None = None, **options: Unpack[Watching]
) -> Ending:
    """The local preflight of every row: DNS health, a real IMAP login and SMTP AUTH; no API call.

    `preflight` holds the checks' settings (deadline, DNS servers, CA file, concurrency...).
    """
    from bulk_onboard.jobs.check import CheckJob, check_job

    job = CheckJob(
        input=str(input),
        out=Path(options.get("out", DEFAULT_OUT)),
        read=_read(options),
        preflight=preflight or PreflightSettings(),
        default_provider=options.get("provider"),
        progress_bar=options.get("progress_bar", False),
        progress_lines=options.get("progress_lines", True),
    )
    check_out(job.out)
    data = _stdin_bytes(job.input, options)
    code, run_dir = await check_job(job, options.get("command_line", ()), data)
    return code, run_dir, ""


async def _validate(
    input: PathLike,
    *,
    workspaces: Mapping[str, int] | None = None,
    **options: Unpack[Watching],
) -> Ending:
    """Read, normalise and validate every row, with no network: valid.csv and failed.csv.
    `workspaces` (`--workspace`) checks the rows `run` would link through one as such."""
    from bulk_onboard.engine.stopping import StopControl, signals_handled
    from bulk_onboard.jobs.validate import validate_job

    check_out(Path(options.get("out", DEFAULT_OUT)))
    stdin = _stdin_bytes(str(input), options)
    stop = StopControl(in_flight="the chunk of rows", abandon=False)
    # In a thread, so the loop hears a signal: the job sees `stop` between chunks.
    with signals_handled(stop):
        code, run_dir = await asyncio.to_thread(
            validate_job,
            str(input),
            Path(options.get("out", DEFAULT_OUT)),
            _read(options),
            options.get("provider"),
            stdin,
            _checked_workspaces(workspaces or {}),
            stop,
            progress_bar=options.get("progress_bar", False),
            progress_lines=options.get("progress_lines", True),
        )
    return code, run_dir, ""


def report(run_dir: PathLike) -> list[Path]:
    """(Re)write results.xlsx and report.html of a finished run folder; the paths written.

    A file that can't be written is logged and left out of the list.
    """
    from bulk_onboard.reports.render import render_reports

    return render_reports(Path(run_dir))


def _blocking(job: Job[P], loop: Loop = event_loop.run) -> Callable[P, RunResult]:
    """A job as a plain call: its own event loop, then the reports people open."""

    @functools.wraps(job)
    def call(*args: P.args, **kwargs: P.kwargs) -> RunResult:
        with _caller_signal_handlers():
            code, run_dir, error = loop(job(*args, **kwargs))
            return _finished(code, run_dir, error)

    return call


def _awaiting(job: Job[P]) -> Callable[P, Awaitable[RunResult]]:
    """A job as a coroutine in the caller's event loop, the reports rendered in a thread."""

    @functools.wraps(job)
    async def call(*args: P.args, **kwargs: P.kwargs) -> RunResult:
        with _caller_signal_handlers():
            code, run_dir, error = await job(*args, **kwargs)
            return await asyncio.to_thread(_finished, code, run_dir, error)

    return call


@contextlib.contextmanager
def _caller_signal_handlers() -> Iterator[None]:
    """The caller's SIGINT/SIGTERM handlers, given back when the job and its reports are done.

    A job routes both signals to its stop while its loop runs, then ignores them until its
    reports are written (engine/stopping.py); the caller's own handling resumes here.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # a job off the main thread handles no signals
        return
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:  # None: set from C, can't be put back from Python
                signal.signal(signum, handler)


def _finished(code: ExitCode, run_dir: Path | None, error: str) -> RunResult:
    """Render the folder's reports; the result, or the exception its exit code stands for."""
    if run_dir is not None:
        from bulk_onboard.reports.render import render_reports_after

        render_reports_after(run_dir)
    if code in (ExitCode.OK, ExitCode.SOME_FAILED) and run_dir is not None:
        return RunResult.of(run_dir)
    raise error_for(code, error or _stopped(run_dir), run_dir)


def _checked_settings(
    given: Mapping[str, bool | int | str],
) -> tuple[tuple[str, bool | int | str], ...]:
    """Account settings checked against MailReach's ranges (rows/account_settings.py)."""
    from bulk_onboard.rows.account_settings import parse_setting

    checked = []
    for name, value in given.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        try:
            checked.append(parse_setting(f"{name}={text}"))
        except ValueError as error:
            raise UsageError(str(error)) from None
    return tuple(checked)


def _checked_workspaces(given: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """`--workspace`'s kinds and ids, checked."""
    from bulk_onboard.rows.workspace_route import WORKSPACE_KINDS

    for kind, workspace in given.items():
        if kind not in WORKSPACE_KINDS or isinstance(workspace, bool):
            raise UsageError(f"--workspace takes google=ID or outlook=ID, not {kind}={workspace}.")
        if not isinstance(workspace, int) or not 1 <= workspace <= 2**31 - 1:
            raise UsageError(f"--workspace {kind}= takes a workspace id (a whole number).")
    return tuple(given.items())


def _path(value: PathLike | None) -> Path | None:
    return None if value is None else Path(value)


def _read(options: Reading) -> ReadOptions:
    return ReadOptions(options.get("sheet"), options.get("encoding"), options.get("delimiter"))


def _stdin_bytes(input: str, options: Reading) -> bytes | None:
    """The bytes of input "-": given, or read once from a file (standard input by default)."""
    if input != "-":
        return None
    stdin = options.get("stdin")
    if isinstance(stdin, bytes):
        return stdin
    return (stdin or sys.stdin.buffer).read()


def _run_settings(input: PathLike, options: Submitting) -> RunSettings:
    """The settings of a submitting job; an option left out takes the command line's default."""
    sandbox = options.get("sandbox", False)
    key = options.get("api_key")
    if not sandbox and not key:
        raise UsageError("No API key: pass api_key (or sandbox=True to try the local sandbox).")
    api_url = options.get("api_url", DEFAULT_API_URL)
    if not sandbox:
        check_api_url(api_url, insecure_http=options.get("insecure_http", False))
    return RunSettings(
        input=str(input),
        out=Path(options.get("out", DEFAULT_OUT)),
        api=ApiConfig(
            base_url=api_url,
            api_key=key or "",
            bearer=options.get("bearer", False),
            user_agent=options.get("user_agent") or USER_AGENT,
            timeout_s=options.get("timeout_s", DEFAULT_TIMEOUT_S),
            concurrency=options.get("concurrency", DEFAULT_CONCURRENCY),
        ),
        read=_read(options),
        rate=options.get("rate", DEFAULT_RATE),
        max_attempts=options.get("max_attempts", DEFAULT_MAX_ATTEMPTS),
        backoff_base_s=options.get("backoff_s", DEFAULT_BACKOFF_S),
        grace_s=options.get("grace_s", DEFAULT_GRACE_S),
        dry_run=options.get("dry_run", False),
        default_provider=options.get("provider"),
        progress_bar=options.get("progress_bar", False),
        progress_lines=options.get("progress_lines", True),
    )


@contextlib.asynccontextmanager
async def _reaching_the_api(settings: RunSettings, sandbox: bool) -> AsyncIterator[RunSettings]:
    """The settings as given, or pointed at a sandbox served in this event loop for the job."""
    if not sandbox:
        yield settings
        return
    from bulk_onboard.sandbox import SandboxConfig, running_sandbox

    key = secrets.token_urlsafe(16)
    async with running_sandbox(SandboxConfig(api_key=key)) as box:
        log.info("Using the local sandbox API at %s", box.base_url)
        api = dataclasses.replace(settings.api, base_url=box.base_url, api_key=key)
        yield dataclasses.replace(settings, api=api)


def _stopped(run_dir: Path | None) -> str:
    """Why a job that wrote its folder stopped early, as its summary says."""
    if run_dir is None:
        return "the job stopped"
    return str(RunResult.of(run_dir).summary.get("stopped") or "the job stopped")


run = _blocking(_run)
run_async = _awaiting(_run)
sync = _blocking(_sync)
sync_async = _awaiting(_sync)
# `check` keeps the standard event loop: the preflight's IMAP and SMTP clients are tested on it.
check = _blocking(_check, asyncio.run)
check_async = _awaiting(_check)
validate = _blocking(_validate, asyncio.run)
validate_async = _awaiting(_validate)
