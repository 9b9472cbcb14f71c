"""The sandbox's settings: built once (by the CLI, `python -m bulk_onboard.sandbox` or a test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bulk_onboard.preflight.settings import PreflightSettings

DEFAULT_API_KEY = "sandbox"
DEFAULT_PORT = 8025
# Enough to keep every arrival of a 100k-row benchmark, small enough (tens of MB) to never matter.
DEFAULT_REQUEST_LOG_SIZE = 200_000
# The user-defined tags the sandbox knows (MailReach makes them in its app; the API only links
# them): `POST /v1/tags/{id}/link` takes these ids, and `/_sandbox/tags` adds more.
DEFAULT_TAGS: tuple[tuple[int, str], ...] = ((7, "sales-team"), (8, "warm-up"), (9, "fleet-b"))


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """How the sandbox answers: its key, its store, its fault knobs (SPEC.md, "The sandbox")."""

    api_key: str = DEFAULT_API_KEY
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    # 429 + Retry-After past R admitted requests in any sliding 1 s window, across all of /v1.
    rate_limit: float | None = None
    fail_rate: float = 0.0  # fraction of /v1 requests answered 503
    fail_first: int = 0  # the first N imap_auth requests of each email are answered 503
    reset_rate: float = 0.0  # fraction of /v1 requests whose connection is dropped unanswered
    db: str | None = None  # SQLite file instead of memory
    seed: int = 0  # seeds the one RNG behind the fault knobs, so test runs are reproducible
    revoke_after: int | None = None  # after N imap_auth requests the key is refused (401)
    page_size: int = 100  # GET /v1/accounts page size
    # imap_auth without `id` for an email that has an account updates it; False: 422, "Email
    # has already been taken" (the real API documents `id` for updates, not matching by email).
    upsert: bool = True
    request_log_size: int = DEFAULT_REQUEST_LOG_SIZE  # oldest entries are forgotten past this
    # `--verify`: really log in to each request's servers and read DNS, through the preflight.
    verify: PreflightSettings | None = None
    tags: tuple[tuple[int, str], ...] = DEFAULT_TAGS  # (id, name) of the tags that exist
    # Email workspaces (sandbox/workspaces.py): (id, "google" | "outlook"), and how long a
    # batch of more than 4 addresses runs before its task completes.
    workspaces: tuple[tuple[int, str], ...] = ((1, "google"), (2, "outlook"))
    task_delay_s: float = 0.5

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be between 0 and 1"
            for name, rate in (("fail_rate", self.fail_rate), ("reset_rate", self.reset_rate))
            if not 0.0 <= rate <= 1.0
        ]
        if self.latency_ms < 0 or self.jitter_ms < 0:
            problems.append("latency_ms and jitter_ms must not be negative")
        if self.rate_limit is not None and self.rate_limit <= 0:
            problems.append("rate_limit must be positive")
        if self.fail_first < 0:
            problems.append("fail_first must not be negative")
        if self.revoke_after is not None and self.revoke_after < 0:
            problems.append("revoke_after must not be negative")
        if self.task_delay_s < 0:
            problems.append("task_delay_s must not be negative")
        if self.page_size < 1 or self.request_log_size < 1:
            problems.append("page_size and request_log_size must be at least 1")
        if not self.api_key:
            problems.append("api_key must not be empty")
        if problems:
            raise ValueError("; ".join(problems))
