"""The settings of one run, built once at the edge (the CLI) and passed in; no env reads below."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulk_onboard.api.config import ApiConfig

DEFAULT_API_URL = "https://api.mailreach.co/api"
DEFAULT_RATE = 10.0  # MailReach asks for < 20 requests/s per key
DEFAULT_CONCURRENCY = 32
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_S = 1.0  # base of the 1-2-4-8 x backoff between retries
DEFAULT_GRACE_S = 10.0  # after a stop request, how long in-flight requests may finish
UNREACHABLE_ROWS = 3  # consecutive rows that never reached the API before the run stops (69)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True, slots=True)
class RunSettings:
    input: str
    out: Path
    api: ApiConfig
    read: ReadOptions = ReadOptions()
    rate: float | None = DEFAULT_RATE  # None: unlimited
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base_s: float = DEFAULT_BACKOFF_S
    grace_s: float = DEFAULT_GRACE_S
    dry_run: bool = False
    # List MailReach's accounts before sending, so existing ones are sent with their id;
    # False (`--no-lookup`): every row is sent as new.
    lookup: bool = True
    default_provider: str | None = None
    progress_bar: bool = False
    progress_lines: bool = True  # without a bar, a progress line every few seconds
    unreachable_rows: int = UNREACHABLE_ROWS
    # `--set FIELD=VALUE`: account settings for every row whose sheet gives none (checked).
    account_settings: tuple[tuple[str, bool | int | str], ...] = ()
    # `--workspace KIND=ID`: the email workspace of each kind ("google", "outlook").
    workspaces: tuple[tuple[str, int], ...] = ()
