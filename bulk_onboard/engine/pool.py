"""The worker pool: a producer normalises rows into a bounded queue, N workers submit them.

A worker sends one attempt at a time: a row to be retried goes back to the queue, due when its
backoff ends (engine/work_queue.py), and the worker takes the next row meanwhile.

Every row read is tracked in `pending` from the moment it is taken from the input until it
settles, with no await in between, so whatever stops the run (a signal, an abort, cancellation)
the final sweep finds every row that has not settled and reports it unprocessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bulk_onboard.api.paths import IMAP_AUTH_PATH
from bulk_onboard.api.retry_rules import STOP_EXIT_CODES, Action, Verdict
from bulk_onboard.api.submit import Submission, Submitter
from bulk_onboard.base import outcomes
from bulk_onboard.base.outcomes import Outcome, Stage, Status, Unprocessed
from bulk_onboard.engine import settle
from bulk_onboard.engine.after_connect import AfterConnect, Connected, RowSteps
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.engine.work_queue import WorkQueue
from bulk_onboard.engine.workspace_batches import WorkspaceBatches
from bulk_onboard.errors import ExitCode
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.screening import Screen
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import RawRow

log = logging.getLogger("bulk_onboard")
# Rows waiting out a backoff, per worker, before no new row is taken: at 25/s and a 1-8 s
# backoff a storm keeps a few hundred waiting; a cap keeps a fast-failing API from filling memory.
WAITING_PER_WORKER = 32


@dataclass(slots=True)
class PoolStats:
    api_requests: int = 0
    retries: int = 0


@dataclass(slots=True)
class _Job:
    """A row in the workers' hands: its body and its submission once first sent."""

    item: NormalisedRow
    body: dict[str, object] | None = None  # the next attempt's (a lookup may add the id)
    sent: settle.Sent | None = None  # what the first body carried, for the reports
    sub: Submission | None = None
    # Once connected: its settings and tag links, sent one attempt at a time like the connect.
    steps: RowSteps | None = None


class RowCheck(Protocol):
    """`run --preflight`'s check of each row before it is sent (preflight.row_check)."""

    def adopt(self, raw: RawRow, item: NormalisedRow) -> bool: ...

    async def __call__(self, item: NormalisedRow) -> NormalisedRow | Outcome: ...


class Pool:
    """One run's producer and workers. `settle_outcome` is called once per row, synchronously."""

    def __init__(
        self,
        rows: Iterator[RawRow],
        columns: ColumnMap,
        options: NormaliseOptions,
        submitter: Submitter,
        stop: StopControl,
        settle_outcome: Callable[[Outcome], None],
        *,
        concurrency: int,
        unreachable_rows: int,
        wanted: Callable[[NormalisedRow], bool] | None = None,
        body_for: Callable[[NormalisedRow], dict[str, object]] | None = None,
        preflight: RowCheck | None = None,
        started_at: datetime | None = None,
        after_connect: AfterConnect | None = None,
        workspaces: WorkspaceBatches | None = None,
    ) -> None:
        self._rows = rows
        self._columns = columns
        self._options = options
        self._submitter = submitter
        self._stop = stop
        self._settle_outcome = settle_outcome
        self._concurrency = concurrency
        self._unreachable_rows = unreachable_rows
        self._wanted = wanted
        # Adds the id of an account MailReach already has; default: the request as it is.
        self._body_for = body_for
        self._preflight = preflight  # `run --preflight`
        self._started_at = started_at  # the run's start: an account made before it existed
        self._after = after_connect  # settings and tags after a connect
        self._workspaces = workspaces  # rows linked through an email workspace, in batches
        if workspaces is not None:
            workspaces.bind(self._settle, self._after_linked)
        self._work: WorkQueue[_Job] | None = None  # made in run(), on the running loop
        self._pending: dict[int, str] = {}  # row → email, read but not settled
        self._inflight: set[int] = set()
        self._maybe_sent: set[int] = set()  # rows waiting to retry after an ambiguous failure
        self._screen = Screen()
        self._unreachable_streak = 0
        self.stats = PoolStats()

    def _settle(self, outcome: Outcome) -> None:
        self._pending.pop(outcome.row, None)
        self._settle_outcome(outcome)

    async def run(self, grace_s: float) -> None:
        """Process every row; on a stop request, drain in-flight requests for up to `grace_s`."""
        self._work = WorkQueue(self._concurrency * 2, self._concurrency * WAITING_PER_WORKER)
        work = asyncio.create_task(self._run_workers())
        requested = asyncio.create_task(self._stop.requested.wait())
        hard = asyncio.create_task(self._stop.hard.wait())
        try:
            await asyncio.wait({work, requested}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                # Rows waiting out a backoff are settled now, not when their backoff ends.
                self._work.release_waiting()
                await asyncio.wait({work, hard}, timeout=grace_s, return_when="FIRST_COMPLETED")
                if not work.done():
                    log.warning("Abandoning %d requests still in flight.", len(self._inflight))
                    work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        finally:
            requested.cancel()
            hard.cancel()
            self._sweep()

    async def _run_workers(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(self._concurrency):
                group.create_task(self._worker())
            await self._produce()
        if self._workspaces is not None:
            await self._workspaces.flush()  # the batches not full, once every row was read

    def _interim(self, row: int) -> Outcome | None:
        for stage in (self._after, self._workspaces):
            if stage is not None and (interim := stage.interim(row)) is not None:
                return interim
        return None

    async def _after_linked(self, item: NormalisedRow, outcome: Outcome) -> Outcome:
        """A workspace row's settings and tags, once its account is listed."""
        if self._after is None or not self._after.needed(item):
            return outcome
        return await self._after.finish(item, Connected(outcome.fields, ()))

    def _sweep(self) -> None:
        """Settle every row read but not settled, then every row not read yet."""
        reason = self._stop.reason
        for row, email in list(self._pending.items()):
            # A row connected, or sent in a workspace batch, before the stop keeps what --resume
            # needs to finish it without sending it again blindly.
            if (interim := self._interim(row)) is not None:
                self._settle(interim)
                continue
            maybe_sent = row in self._inflight or row in self._maybe_sent
            why = Unprocessed.UNKNOWN_OUTCOME if maybe_sent else reason
            self._settle(outcomes.unprocessed(row, email, why))
        for raw in self._rows:
            item = normalise(raw, self._columns, self._options)
            if self._wanted is None or self._wanted(item):
                outcome = self._screen.reject(self._screened(raw, item))
                self._settle(outcome or outcomes.unprocessed(item.row, item.email, reason))

    async def _produce(self) -> None:
        assert self._work is not None
        try:
            for raw in self._rows:
                item = normalise(raw, self._columns, self._options)
                if self._wanted is not None and not self._wanted(item):
                    self._screen.remember(item)  # a later repeat of its email is still a duplicate
                    continue
                self._pending[item.row] = item.email
                # Rows that fail locally are reported as such even after a stop: no API needed.
                if outcome := self._screen.reject(self._screened(raw, item)):
                    self._settle(outcome)
                    continue
                if self._stop.requested.is_set():
                    self._settle(outcomes.unprocessed(item.row, item.email, self._stop.reason))
                    continue
                await self._work.put_new(_Job(item))
        finally:
            self._work.close()

    async def _worker(self) -> None:
        assert self._work is not None
        while (job := await self._work.get()) is not None:
            delay_s = await self._step(job)
            if delay_s is None:
                self._work.done()
            else:
                self._work.retry_at(job, delay_s)

    async def _step(self, job: _Job) -> float | None:
        """Send one attempt of a job's row, or settle it; the backoff before its next attempt,
        None once it is settled."""
        if self._stop.requested.is_set():
            self._settle(self._stopped(job))
            return None
        if job.steps is not None:
            return await self._follow(job)
        if job.sub is None:
            if not await self._first_step(job):
                return None if job.steps is None else await self._follow(job)
            job.sub = Submission(Verdict(Action.RETRY))
        elif not await self._before_resend(job):
            return None
        item, sub = job.item, job.sub
        assert job.body is not None
        assert job.sent is not None
        delay_s = await self._send_once(item.row, sub, job.body)
        if delay_s is not None:
            if sub.ambiguous:
                self._maybe_sent.add(item.row)
            return delay_s
        self._maybe_sent.discard(item.row)
        outcome = self._outcome_of(item, sub, job.sent)
        if (
            self._after is not None
            and outcome.status is Status.SUCCEEDED
            and outcome.fields.get("account_id") is not None
            and self._after.needed(item)
        ):
            # The settings and tag links (engine/after_connect.py), as the connect was sent.
            job.steps = self._after.start(item, Connected(outcome.fields, ()), sub.attempts)
            return await self._follow(job)
        self._settle(outcome)
        return None

    async def _send_once(
        self, row: int, sub: Submission, body: dict[str, Any], path: str = IMAP_AUTH_PATH
    ) -> float | None:
        """One attempt of a row's request (its connect, or a step after it): the backoff to
        wait in the queue before the next, or None once the answer is final. A stop that came
        while it was on the wire allows no retry."""
        self._inflight.add(row)
        sent = await self._submitter.attempt(sub, body, path)
        self._inflight.discard(row)
        if not sent:
            return None
        self.stats.api_requests += 1
        delay_s = self._submitter.retry_pause(sub)
        if delay_s is None:
            return None
        self.stats.retries += 1
        if self._stop.requested.is_set():
            sub.interrupted = True
            return None
        return delay_s

    async def _follow(self, job: _Job) -> float | None:
        """Send a connected row's steps, one attempt at a time under the same throttle and
        retry table: a step to be retried goes back to the queue like a connect (its backoff,
        returned, holds no worker). None once the row is settled."""
        steps = job.steps
        assert steps is not None
        row = job.item.row
        while True:
            if steps.sub is None and steps.next() is None:
                self._settle(steps.outcome())
                return None
            if self._stop.requested.is_set():
                self._settle(steps.interim)
                return None
            step, sub = steps.step, steps.sub
            assert step is not None
            assert sub is not None
            delay_s = await self._send_once(row, sub, step.body, step.path)
            if delay_s is not None:
                return delay_s
            steps.sub = None
            if not steps.answered(sub):
                self._settle(steps.interim)  # the key refused, or a stop: --resume finishes it
                return None

    async def _first_step(self, job: _Job) -> bool:
        """Preflight the row (`run --preflight`) and build its body; False if it is settled
        (or handed on: an email workspace row, or one connected by an earlier run)."""
        item = job.item
        if item.workspace is not None:
            assert self._workspaces is not None  # only `run` routes rows to workspaces
            await self._workspaces.add(item)
            return False
        if self._after is not None and (earlier := self._after.earlier(item)) is not None:
            # Connected by an earlier run: only its settings and tags are left to send.
            job.steps = self._after.start(item, earlier)
            return False
        if self._preflight is not None:
            checked = await self._preflight(item)
            if isinstance(checked, Outcome):
                self._settle(checked)
                return False
            if self._stop.requested.is_set():
                self._settle(outcomes.unprocessed(item.row, item.email, self._stop.reason))
                return False
            item = job.item = checked
        assert item.request is not None
        job.body = item.request.to_body() if self._body_for is None else self._body_for(item)
        job.sent = settle.Sent.of(job.body)
        return True

    async def _before_resend(self, job: _Job) -> bool:
        """A row due again after its backoff: look its email up first when its last answer
        calls for it (api/resend.py), for the id to send; False if it is settled instead."""
        assert job.sub is not None
        assert job.body is not None
        assert job.sent is not None
        body = await self._submitter.before_resend(job.sub, job.body)
        if body is None:
            self._maybe_sent.discard(job.item.row)
            self._settle(self._outcome_of(job.item, job.sub, job.sent))
            return False
        job.body = body
        return True

    def _stopped(self, job: _Job) -> Outcome:
        """The unprocessed outcome of a row taken after a stop: never sent again."""
        self._maybe_sent.discard(job.item.row)
        if job.steps is not None:
            return job.steps.interim  # connected: what is done is journaled with the account
        sent = job.sub is not None and job.sub.ambiguous
        why = Unprocessed.UNKNOWN_OUTCOME if sent else self._stop.reason
        return outcomes.unprocessed(job.item.row, job.item.email, why)

    def _screened(self, raw: RawRow, item: NormalisedRow) -> NormalisedRow:
        """The row as screening sees it: the preflight completes rows lacking only servers."""
        if self._preflight is not None and self._preflight.adopt(raw, item):
            return dataclasses.replace(item, problems=())
        return item

    def _outcome_of(self, item: NormalisedRow, sub: Submission, sent: settle.Sent) -> Outcome:
        verdict = sub.verdict
        never_reached = sub.attempts > 0 and sub.connect_failures == sub.attempts
        self._unreachable_streak = self._unreachable_streak + 1 if never_reached else 0
        if verdict.action is Action.ACCEPT:
            return settle.succeeded(item.row, item.email, sub, sent, self._started_at)
        if (exit_code := STOP_EXIT_CODES.get(verdict.action)) is not None:
            self._stop.request(Unprocessed.ABORTED, exit_code, verdict.message)
            return outcomes.unprocessed(item.row, item.email, Unprocessed.ABORTED)
        if sub.interrupted:
            why = Unprocessed.UNKNOWN_OUTCOME if sub.ambiguous else self._stop.reason
            return outcomes.unprocessed(item.row, item.email, why)
        if never_reached and self._unreachable_streak >= self._unreachable_rows:
            self._stop.request(
                Unprocessed.ABORTED,
                ExitCode.UNAVAILABLE,
                f"the API at {self._submitter.where} could not be reached for "
                f"{self._unreachable_streak} rows in a row",
            )
            return outcomes.unprocessed(item.row, item.email, Unprocessed.ABORTED)
        return outcomes.failed(
            item.row,
            item.email,
            Stage.API,
            verdict.code,
            verdict.message,
            item.original,
            http_status=sub.http_status,
            attempts=sub.attempts,
        )
