"""Typed failures and SPEC.md's exit codes. Each exception carries one sentence for a person.

One exception class per exit code other than 0 and 1 (a finished run, whose rows may have
failed), so a Python caller and a shell script see the same thing: `error.exit_code` is the
code the command line exits with, and `error.run_dir` the run folder, when one was written.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    SOME_FAILED = 1
    USAGE = 2
    DATA_ERROR = 65  # input can't be read as a table, or has no email column
    NO_INPUT = 66  # input file does not exist
    UNAVAILABLE = 69  # the API could not be reached
    CANT_CREATE = 73  # --out can't hold a run folder (a file, read-only, OUT/latest a folder)
    LOCKED = 75  # another sync holds the lock
    KEY_REFUSED = 77  # the API key was refused
    SIGINT = 130
    SIGTERM = 143


class BulkOnboardError(Exception):
    """A failure a user caused or can fix; `str()` is one sentence, with no secret in it."""

    exit_code: ExitCode = ExitCode.SOME_FAILED
    run_dir: Path | None = None  # the run folder the job wrote before it stopped, if any


class UsageError(BulkOnboardError):
    """An option or argument can't be used as given (exit 2)."""

    exit_code = ExitCode.USAGE


class InputError(BulkOnboardError):
    """The input can't be read as a table (bad encoding, broken quoting, no email column...)."""

    exit_code = ExitCode.DATA_ERROR


class InputMissingError(BulkOnboardError):
    """The input file does not exist (exit 66)."""

    exit_code = ExitCode.NO_INPUT


class ApiUnavailableError(BulkOnboardError):
    """The API (or the sandbox standing in for it) could not be reached (exit 69)."""

    exit_code = ExitCode.UNAVAILABLE


class OutputError(BulkOnboardError):
    """No run folder can be made where --out says (exit 73, sysexits' EX_CANTCREAT)."""

    exit_code = ExitCode.CANT_CREATE


class LockedError(BulkOnboardError):
    """Another sync holds the state's lock: try later (exit 75)."""

    exit_code = ExitCode.LOCKED


class KeyRefusedError(BulkOnboardError):
    """MailReach refused the API key (exit 77)."""

    exit_code = ExitCode.KEY_REFUSED


class RunInterrupted(BulkOnboardError):
    """SIGINT (exit 130) or SIGTERM (exit 143) stopped the job; its reports are written."""

    exit_code = ExitCode.SIGINT


ERRORS: dict[ExitCode, type[BulkOnboardError]] = {
    ExitCode.USAGE: UsageError,
    ExitCode.DATA_ERROR: InputError,
    ExitCode.NO_INPUT: InputMissingError,
    ExitCode.UNAVAILABLE: ApiUnavailableError,
    ExitCode.CANT_CREATE: OutputError,
    ExitCode.LOCKED: LockedError,
    ExitCode.KEY_REFUSED: KeyRefusedError,
    ExitCode.SIGINT: RunInterrupted,
    ExitCode.SIGTERM: RunInterrupted,
}


def error_for(code: ExitCode, message: str, run_dir: Path | None = None) -> BulkOnboardError:
    """The exception that stands for exit code `code` (a job that ended with it)."""
    error = ERRORS.get(code, BulkOnboardError)(message)
    error.exit_code = code
    error.run_dir = run_dir
    return error
