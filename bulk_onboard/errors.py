"""Typed failures and SPEC.md's exit codes. Each exception carries one sentence for a person."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    SOME_FAILED = 1
    USAGE = 2
    DATA_ERROR = 65  # input can't be read as a table, or has no email column
    NO_INPUT = 66  # input file does not exist
    UNAVAILABLE = 69  # the API could not be reached
    LOCKED = 75  # another sync holds the lock
    KEY_REFUSED = 77  # the API key was refused
    SIGINT = 130
    SIGTERM = 143


class BulkOnboardError(Exception):
    """A failure a user caused or can fix; `str()` is one sentence, with no secret in it."""

    exit_code: ExitCode = ExitCode.SOME_FAILED


class UsageError(BulkOnboardError):
    exit_code = ExitCode.USAGE


class InputError(BulkOnboardError):
    """The input can't be read as a table (bad encoding, broken quoting, no email column...)."""

    exit_code = ExitCode.DATA_ERROR


class InputMissingError(BulkOnboardError):
    exit_code = ExitCode.NO_INPUT
