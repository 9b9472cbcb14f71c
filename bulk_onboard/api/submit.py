"""Submitting one row: attempts under the shared throttle, the retry table, backoff, Retry-After.

The loop is written by hand rather than with tenacity: each attempt must pass the shared throttle,
a 429 pauses every worker (not just this one), a stop request must cut a backoff sleep short and
keep any new attempt from starting, and per-attempt facts (was the request possibly carried out?
did every try fail to connect?) decide how an interrupted or abandoned row is reported. And the
worker pool does not sleep out a backoff at all: it takes `attempt`, `retry_pause` and
`before_resend` apart and holds the row in its delayed queue meanwhile (engine/work_queue.py).
tenacity's strategies are values over its own call state; here the state is the row's.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bulk_onboard.api.client import ApiClient, TransportFailure
from bulk_onboard.api.paths import IMAP_AUTH_PATH
from bulk_onboard.api.retry_rules import Action, Verdict, classify_response, classify_transport
from bulk_onboard.api.throttle import Throttle
from bulk_onboard.base.printable import url_shown

if TYPE_CHECKING:  # resend.py looks accounts up through the listing, which uses RetryPolicy
    from bulk_onboard.api.resend import Resend

BACKOFF_CAP_STEPS = 3  # 1, 2, 4, 8 x base, then 8 x base again


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base_s: float = 1.0  # waits base x (1, 2, 4, 8) plus up to base of jitter

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Pause after failed attempt number `attempt` (1-based)."""
        step = self.backoff_base_s * 2.0 ** min(attempt - 1, BACKOFF_CAP_STEPS)
        return step + rng.uniform(0, self.backoff_base_s)


@dataclass(slots=True)
class Submission:
    """How a row's submission ended."""

    verdict: Verdict
    http_status: int | None = None
    account: dict[str, Any] | None = None
    attempts: int = 0
    elapsed_ms: int = 0
    interrupted: bool = False  # a stop request cut the retries short
    ambiguous: bool = False  # some attempt may have been carried out without us hearing back
    connect_failures: int = 0  # attempts that never reached the server
    retries: int = field(default=0)
    started: float = 0.0  # the clock at the first attempt: time on the wire and in backoff
    # Why the id the last try carried was looked up during the retries (resend.AFTER_*), if it
    # was: what tells a created account from an updated one.
    learned_from: str | None = None
    answered_at: float = 0.0  # the lookups' clock when the last answer came (resend.since)


class Submitter:
    """Sends connect requests for the workers of one run."""

    def __init__(
        self,
        client: ApiClient,
        throttle: Throttle,
        policy: RetryPolicy,
        stop: asyncio.Event,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        resend: Resend | None = None,
    ) -> None:
        self._client = client
        self._resend = resend  # look a create up before sending it again (api/resend.py)
        self._throttle = throttle
        self._policy = policy
        self._stop = stop
        self._rng = rng or random.Random()
        self._clock = clock

    @property
    def where(self) -> str:
        """The API's base URL as it may be shown (no credentials)."""
        return url_shown(self._client.config.base_url)

    async def submit(
        self, body: dict[str, Any], path: str = IMAP_AUTH_PATH, method: str = "POST"
    ) -> Submission:
        """Send `body` until it is accepted, fails for good, the key is refused or we must stop."""
        result = Submission(Verdict(Action.RETRY))
        while await self.attempt(result, body, path, method):
            pause = self.retry_pause(result)
            if pause is None:
                break
            if await self._stopped_within(pause):
                result.interrupted = True
                break
            resent = await self.before_resend(result, body, path)
            if resent is None:
                break
            body = resent
        return result

    async def attempt(
        self,
        result: Submission,
        body: dict[str, Any],
        path: str = IMAP_AUTH_PATH,
        method: str = "POST",
    ) -> bool:
        """One attempt, once the throttle admits it; its verdict goes into `result`.

        False, with `result.interrupted`, when a stop came first: no request starts after a stop,
        however long the attempt had waited for its slot.
        """
        if not await self._throttle.admit(self._stop):
            result.interrupted = True
            return False
        if not result.attempts:
            result.started = self._clock()  # time on the wire and in backoff, not in the queue
        result.attempts += 1
        verdict = await self._attempt(result, method, path, body)
        if (resend := self._resend_on(path)) is not None:
            verdict = resend.reconsider(body, verdict)
            result.answered_at = resend.since()
        result.verdict = verdict
        result.elapsed_ms = round((self._clock() - result.started) * 1000)
        return True

    async def before_resend(
        self, result: Submission, body: dict[str, Any], path: str = IMAP_AUTH_PATH
    ) -> dict[str, Any] | None:
        """The body of the next attempt, called once its backoff is over: with the account's id
        when the last answer called for a lookup and it found one (api/resend.py); None when
        the row must not be sent again (`result` then says how it ends)."""
        resend = self._resend_on(path)
        if resend is None:
            return body
        resent = await resend.before_resend(body, result, result.answered_at)
        result.elapsed_ms = round((self._clock() - result.started) * 1000)
        return resent

    def _resend_on(self, path: str) -> Resend | None:
        # Only a connect can make an account, so only a connect is looked up before a resend.
        return self._resend if path == IMAP_AUTH_PATH else None

    def retry_pause(self, result: Submission) -> float | None:
        """Seconds to wait before the next attempt, or None when the row is done (accepted,
        failed for good, or out of attempts). A 429 also holds back every worker that long."""
        verdict = result.verdict
        if verdict.action is not Action.RETRY or result.attempts >= self._policy.max_attempts:
            return None
        pause = self._policy.backoff_s(result.attempts, self._rng)
        if verdict.code == "rate_limited":
            pause = verdict.retry_after_s if verdict.retry_after_s is not None else pause
            self._throttle.pause(pause)
        elif verdict.retry_after_s is not None:
            pause = max(pause, verdict.retry_after_s)
        result.retries += 1
        return pause

    async def _attempt(
        self, result: Submission, method: str, path: str, body: dict[str, Any]
    ) -> Verdict:
        try:
            answer = await self._client.call(method, path, body if method == "POST" else None)
        except TransportFailure as failure:
            result.http_status = None  # no answer this time: don't report an earlier one
            verdict = classify_transport(failure.kind)
            result.ambiguous |= verdict.ambiguous
            if failure.kind in ("refused", "dns"):
                result.connect_failures += 1
            return verdict
        result.http_status = answer.status
        verdict = classify_response(answer.status, answer.body, answer.retry_after, answer.location)
        if verdict.action is Action.ACCEPT:
            result.account = answer.body if isinstance(answer.body, dict) else {}
            result.ambiguous = False
        return verdict

    async def _stopped_within(self, seconds: float) -> bool:
        """Sleep `seconds` unless a stop is requested first; True if it was."""
        if self._stop.is_set():
            return True
        try:
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        except TimeoutError:
            return False
        return True
