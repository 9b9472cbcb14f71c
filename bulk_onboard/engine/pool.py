"""The worker pool: a producer normalises rows into a bounded queue, N workers submit them.

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
from typing import Protocol

from bulk_onboard.api.retry_rules import STOP_EXIT_CODES, Action
from bulk_onboard.api.submit import Submission, Submitter
from bulk_onboard.base import outcomes
from bulk_onboard.base.outcomes import Outcome, Stage, Status, Unprocessed
from bulk_onboard.engine import settle
from bulk_onboard.engine.after_connect import AfterConnect, Connected
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.engine.workspace_batches import WorkspaceBatches
from bulk_onboard.errors import ExitCode
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.screening import Screen
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import RawRow

log = logging.getLogger("bulk_onboard")


@dataclass(slots=True)
class PoolStats:
    api_requests: int = 0
    retries: int = 0


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
        self._queue: asyncio.Queue[NormalisedRow | None] = asyncio.Queue(concurrency * 2)
        self._pending: dict[int, str] = {}  # row → email, read but not settled
        self._inflight: set[int] = set()
        self._screen = Screen()
        self._unreachable_streak = 0
        self.stats = PoolStats()

    def _settle(self, outcome: Outcome) -> None:
        self._pending.pop(outcome.row, None)
        self._settle_outcome(outcome)

    async def run(self, grace_s: float) -> None:
        """Process every row; on a stop request, drain in-flight requests for up to `grace_s`."""
        work = asyncio.create_task(self._work())
        requested = asyncio.create_task(self._stop.requested.wait())
        hard = asyncio.create_task(self._stop.hard.wait())
        try:
            await asyncio.wait({work, requested}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
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

    async def _work(self) -> None:
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
            why = Unprocessed.UNKNOWN_OUTCOME if row in self._inflight else reason
            self._settle(outcomes.unprocessed(row, email, why))
        for raw in self._rows:
            item = normalise(raw, self._columns, self._options)
            if self._wanted is None or self._wanted(item):
                outcome = self._screen.reject(self._screened(raw, item))
                self._settle(outcome or outcomes.unprocessed(item.row, item.email, reason))

    async def _produce(self) -> None:
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
            await self._queue.put(item)
        for _ in range(self._concurrency):
            await self._queue.put(None)

    async def _worker(self) -> None:
        while (item := await self._queue.get()) is not None:
            if self._stop.requested.is_set():
                self._settle(outcomes.unprocessed(item.row, item.email, self._stop.reason))
                continue
            if item.workspace is not None:
                assert self._workspaces is not None  # only `run` routes rows to workspaces
                await self._workspaces.add(item)
                continue
            if self._after is not None and (earlier := self._after.earlier(item)) is not None:
                # Connected by an earlier run: only its settings and tags are left to send.
                self._settle(await self._after.finish(item, earlier))
                continue
            if self._preflight is not None:
                checked = await self._preflight(item)
                if isinstance(checked, Outcome):
                    self._settle(checked)
                    continue
                if self._stop.requested.is_set():
                    self._settle(outcomes.unprocessed(item.row, item.email, self._stop.reason))
                    continue
                item = checked
            assert item.request is not None
            self._inflight.add(item.row)
            body = item.request.to_body() if self._body_for is None else self._body_for(item)
            sent = settle.Sent.of(body)
            sub = await self._submitter.submit(body)
            self._inflight.discard(item.row)
            self.stats.api_requests += sub.attempts
            self.stats.retries += sub.retries
            outcome = self._outcome_of(item, sub, sent)
            if (
                self._after is not None
                and outcome.status is Status.SUCCEEDED
                and outcome.fields.get("account_id") is not None
                and self._after.needed(item)
            ):
                connected = Connected(outcome.fields, ())
                outcome = await self._after.finish(item, connected, sub.attempts)
            self._settle(outcome)

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
