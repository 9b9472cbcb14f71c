"""bulk_onboard: onboard a spreadsheet of mailboxes into MailReach via POST /v1/imap_auth.

The Python API (the command line is a thin shell over it):

    import bulk_onboard
    result = bulk_onboard.run("mailboxes.csv", api_key=key)   # or sandbox=True
    result.counts, result.run_dir, list(result.outcomes())

`run`, `sync`, `check` and `validate` (and their `_async` twins) write a run folder and return
a `RunResult`; `report` renders a folder's results.xlsx and report.html again. An exit code
other than 0 or 1 is raised as the exception of `bulk_onboard.errors` that stands for it.
Names load on first use, so importing the package costs next to nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bulk_onboard.base.version import __version__

if TYPE_CHECKING:
    from bulk_onboard.errors import (
        ApiUnavailableError,
        BulkOnboardError,
        ExitCode,
        InputError,
        InputMissingError,
        KeyRefusedError,
        LockedError,
        OutputError,
        RunInterrupted,
        UsageError,
    )
    from bulk_onboard.library import (
        check,
        check_async,
        report,
        run,
        run_async,
        sync,
        sync_async,
        validate,
        validate_async,
    )
    from bulk_onboard.preflight.settings import PreflightSettings
    from bulk_onboard.runs.result import RunResult

# Public name -> the module that defines it, imported when the name is first used (PEP 562).
_LAZY = {
    **dict.fromkeys(
        ("run", "run_async", "sync", "sync_async", "check", "check_async", "validate",
         "validate_async", "report"),
        "bulk_onboard.library",
    ),
    "RunResult": "bulk_onboard.runs.result",
    "PreflightSettings": "bulk_onboard.preflight.settings",
    **dict.fromkeys(
        ("BulkOnboardError", "ExitCode", "UsageError", "InputError", "InputMissingError",
         "ApiUnavailableError", "OutputError", "LockedError", "KeyRefusedError",
         "RunInterrupted"),
        "bulk_onboard.errors",
    ),
}  # fmt: skip
__all__ = [
    "ApiUnavailableError", "BulkOnboardError", "ExitCode", "InputError", "InputMissingError",
    "KeyRefusedError", "LockedError", "OutputError", "PreflightSettings", "RunInterrupted",
    "RunResult",
    "UsageError", "__version__", "check", "check_async", "report", "run", "run_async", "sync",
    "sync_async", "validate", "validate_async",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bulk_onboard' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
