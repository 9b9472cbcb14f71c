"""The Python API: `run`, `validate`, `check`, `sync` and `report`, and async twins of the jobs.

The command line is a thin shell over these. Each job writes one run folder exactly as the
command of the same name does, renders its results.xlsx and report.html, and returns a
`RunResult` when it ends with exit code 0 (every row succeeded, was valid or was skipped) or 1
(some rows failed or are unprocessed). Every other exit code is a typed exception of
`bulk_onboard.errors`: `UsageError` 2, `InputError` 65, `InputMissingError` 66,
`ApiUnavailableError` 69, `LockedError` 75, `KeyRefusedError` 77, `RunInterrupted` 130/143;
its `run_dir` names the run folder when one was written. The API key is passed in, never read
from the environment here: that is the command line's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, BinaryIO, ParamSpec, TypeVar

from bulk_onboard.api.client import ApiConfig
from bulk_onboard.engine import event_loop
from bulk_onboard.errors import ExitCode, UsageError, error_for
from bulk_onboard.logs import current_format
from bulk_onboard.preflight.settings import PreflightSettings
from bulk_onboard.runs.result import RunResult
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
PathLike = str | os.PathLike[str]
DEFAULT_OUT = Path("output")
P = ParamSpec("P")
T = TypeVar("T")
Ending = tuple[ExitCode, Path | None, str]  # exit code, run folder (if one was made), error text
Job = Callable[P, Coroutine[Any, Any, Ending]]
Loop = Callable[[Coroutine[Any, Any, Ending]], Ending]


async def _run(
    input: PathLike | None = None,
    *,
    api_key: str | None = None,
    api_url: str = DEFAULT_API_URL,
    sandbox: bool = False,
    bearer: bool = False,
    rate: float | None = DEFAULT_RATE,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff_s: float = 1.0,
    grace_s: float = DEFAULT_GRACE_S,
    dry_run: bool = False,
    preflight: PreflightSettings | None = None,
    resume: PathLike | None = None,
    retry_failed: PathLike | None = None,
    force: bool = False,
    provider: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    out: PathLike = DEFAULT_OUT,
    stdin: bytes | BinaryIO | None = None,
    progress_bar: bool = False,
    command_line: Sequence[str] = (),
) -> tuple[ExitCode, Path | None, str]:
    """The main job: read `input`, validate every row, submit the valid ones, report every row.

    `input` may be None with `resume` or `retry_failed`: the earlier run's input is read again.
    `api_key` is needed unless `sandbox` (a local sandbox API started for the run). `rate` None
    means unlimited. `preflight` checks each row locally first (DNS, IMAP login, SMTP AUTH) and
    keeps rows failing it from being sent. `stdin` is what input "-" reads: bytes, or a binary
    file (standard input when not given).
    `command_line` is recorded in manifest.json as given: never put a secret in it.
    """
    from bulk_onboard.jobs.run import RunMode, run_job
    from bulk_onboard.runs.previous import load_previous

    _needs_key(api_key, sandbox)
    if force and resume is None:
        raise UsageError("--force only applies with --resume RUN_DIR.")
    mode = RunMode(_path(resume), _path(retry_failed), force)
    if input is None:
        earlier = mode.resume or mode.retry_failed
        if earlier is None:
            raise UsageError("Name the input file: bulk-onboard run INPUT (or --resume RUN_DIR).")
        input = load_previous(earlier).input_path
    settings = _run_settings(
        input,
        out=out,
        api=ApiConfig(api_url, api_key or "", bearer, timeout_s, concurrency),
        read=ReadOptions(sheet, encoding, delimiter),
        rate=rate,
        max_attempts=max_attempts,
        backoff_base_s=backoff_s,
        grace_s=grace_s,
        dry_run=dry_run,
        default_provider=provider,
        progress_bar=progress_bar,
    )
    data = _stdin_bytes(settings.input, stdin)
    async with _reaching_the_api(settings, sandbox) as settings:
        code, run_dir = await run_job(settings, command_line, data, mode, preflight)
    return code, run_dir, ""


async def _sync(
    input: PathLike,
    *,
    api_key: str | None = None,
    api_url: str = DEFAULT_API_URL,
    sandbox: bool = False,
    bearer: bool = False,
    rate: float | None = DEFAULT_RATE,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff_s: float = 1.0,
    grace_s: float = DEFAULT_GRACE_S,
    dry_run: bool = False,
    state: PathLike | None = None,
    resubmit_all: bool = False,
    score_delta: float = DEFAULT_SCORE_DELTA,
    provider: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    out: PathLike = DEFAULT_OUT,
    stdin: bytes | BinaryIO | None = None,
    progress_bar: bool = False,
    command_line: Sequence[str] = (),
) -> tuple[ExitCode, Path | None, str]:
    """The scheduled re-sync: submit new, changed and failed rows; skip unchanged; report drift.

    `state` is the SQLite state (default OUT/sync-state.sqlite; its .key and .lock beside it);
    `resubmit_all` re-sends every row; a score that moved by more than `score_delta` is a
    change. The other options are `run`'s.
    """
    from bulk_onboard.jobs.sync import SyncSettings, default_state_path, sync_job

    _needs_key(api_key, sandbox)
    run = _run_settings(
        input,
        out=out,
        api=ApiConfig(api_url, api_key or "", bearer, timeout_s, concurrency),
        read=ReadOptions(sheet, encoding, delimiter),
        rate=rate,
        max_attempts=max_attempts,
        backoff_base_s=backoff_s,
        grace_s=grace_s,
        dry_run=dry_run,
        default_provider=provider,
        progress_bar=progress_bar,
    )
    state_path = Path(state) if state is not None else default_state_path(run.out)
    data = _stdin_bytes(run.input, stdin)
    async with _reaching_the_api(run, sandbox) as run:
        settings = SyncSettings(run, state_path, resubmit_all, score_delta)
        code, run_dir = await sync_job(settings, command_line, data)
    return code, run_dir, ""


async def _check(
    input: PathLike,
    *,
    preflight: PreflightSettings | None = None,
    provider: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    out: PathLike = DEFAULT_OUT,
    stdin: bytes | BinaryIO | None = None,
    progress_bar: bool = False,
    command_line: Sequence[str] = (),
) -> tuple[ExitCode, Path | None, str]:
    """The local preflight of every row: DNS health, a real IMAP login and SMTP AUTH; no API call.

    `preflight` holds the checks' settings (deadline, DNS servers, CA file, concurrency...).
    """
    from bulk_onboard.jobs.check import CheckJob, check_job

    job = CheckJob(
        input=str(input),
        out=Path(out),
        read=ReadOptions(sheet, encoding, delimiter),
        preflight=preflight or PreflightSettings(),
        default_provider=provider,
        progress_bar=progress_bar,
    )
    code, run_dir = await check_job(job, command_line, _stdin_bytes(job.input, stdin))
    return code, run_dir, ""


async def _validate(
    input: PathLike,
    *,
    provider: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    out: PathLike = DEFAULT_OUT,
    stdin: bytes | BinaryIO | None = None,
) -> tuple[ExitCode, Path | None, str]:
    """Read, normalise and validate every row, with no network: valid.csv and failed.csv."""
    from bulk_onboard.jobs.validate import validate_job

    read = ReadOptions(sheet, encoding, delimiter)
    code, run_dir = await asyncio.to_thread(
        validate_job, str(input), Path(out), read, provider, _stdin_bytes(str(input), stdin)
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
        code, run_dir, error = loop(job(*args, **kwargs))
        return _finished(code, run_dir, error)

    return call


def _awaiting(job: Job[P]) -> Callable[P, Awaitable[RunResult]]:
    """A job as a coroutine in the caller's event loop, the reports rendered in a thread."""

    @functools.wraps(job)
    async def call(*args: P.args, **kwargs: P.kwargs) -> RunResult:
        code, run_dir, error = await job(*args, **kwargs)
        return await asyncio.to_thread(_finished, code, run_dir, error)

    return call


def _finished(code: ExitCode, run_dir: Path | None, error: str) -> RunResult:
    """Render the folder's reports; the result, or the exception its exit code stands for."""
    if run_dir is not None:
        from bulk_onboard.reports.render import render_reports_apart

        render_reports_apart(run_dir, current_format())
    if code in (ExitCode.OK, ExitCode.SOME_FAILED) and run_dir is not None:
        return RunResult.of(run_dir)
    raise error_for(code, error or _stopped(run_dir), run_dir)


def _needs_key(api_key: str | None, sandbox: bool) -> None:
    if not sandbox and not api_key:
        raise UsageError("No API key: pass api_key (or sandbox=True to try the local sandbox).")


def _path(value: PathLike | None) -> Path | None:
    return None if value is None else Path(value)


def _stdin_bytes(input: str, stdin: bytes | BinaryIO | None) -> bytes | None:
    """The bytes of input "-": given, or read once from a file (standard input by default)."""
    if input != "-":
        return None
    if isinstance(stdin, bytes):
        return stdin
    return (stdin or sys.stdin.buffer).read()


def _run_settings(input: PathLike, *, out: PathLike, **options: Any) -> RunSettings:
    return RunSettings(input=str(input), out=Path(out), **options)


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
