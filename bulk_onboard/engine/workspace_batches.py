"""Email workspace rows: linked in batches per workspace, their task polled, ids from the listing.

`POST /v1/email_workspaces/{id}/accounts` takes a batch of addresses. MailReach answers a batch
of 4 or fewer at once; a larger one carries a `task_id`, polled at `GET /v1/tasks/{task_id}`
with a growing pause until it says it completed. Every request goes through the run's submitter
(client, throttle, retry table), so the rate limit covers the polling too.

Per row: an `errors` element that names its address fails that row; an error naming none is
shared by the batch's rows the listing then does not show. A row's account (its id and scores)
comes from the listing made after the batch completed, like any other row's.

Journal: before a batch is sent its rows are journaled (and committed) as unprocessed
`workspace_pending` with their workspace; once the answer names a task, with the task id too.
A crash or stop then leaves exactly that, and `--resume` asks: the task, if one was named, else
the listing; only addresses the listing does not show are sent again. Nothing is sent blindly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bulk_onboard.api.account_ids import AccountIds
from bulk_onboard.api.accounts import account_fields
from bulk_onboard.api.listing import ListingFailed
from bulk_onboard.api.paths import batch_path, task_path
from bulk_onboard.api.retry_rules import STOP_EXIT_CODES, Action, error_text
from bulk_onboard.api.submit import Submitter
from bulk_onboard.base import outcomes
from bulk_onboard.base.hints import hint_for
from bulk_onboard.base.outcomes import Outcome, Stage, Status, Unprocessed
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.rows.normalise import NormalisedRow

log = logging.getLogger("bulk_onboard")

BATCH_SIZE = 20  # addresses per batch: more than 4, so a batch runs as a task
POLL_FIRST_S = 0.05  # the first pause before asking a task, doubled each time up to the cap
POLL_CAP_S = 8.0
POLL_LIMIT_S = 3600.0  # a task not done within an hour is left for --resume
PENDING = Unprocessed.WORKSPACE_PENDING


@dataclass(frozen=True, slots=True)
class Pending:
    """A row journaled as sent in a batch: its workspace, and the task once one was named."""

    workspace: int
    task_id: int | None


def pending_record(outcome: Outcome) -> Pending | None:
    """What a `workspace_pending` outcome says of its batch."""
    fields = outcome.fields
    workspace, task_id = fields.get("workspace"), fields.get("task_id")
    if fields.get("reason") != PENDING.value or not isinstance(workspace, int):
        return None
    return Pending(workspace, task_id if isinstance(task_id, int) else None)


def errors_by_email(errors: Any, emails: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """An `errors` list (shape unpublished) split into errors naming one of `emails`, and the
    rest as text: an element is read as `{email|address|account: ..., error|message: ...}`, as
    text holding an address, or kept whole as text."""
    wanted = {email.lower() for email in emails}
    named: dict[str, str] = {}
    shared: list[str] = []
    for element in errors if isinstance(errors, list) else ([errors] if errors else []):
        address: str | None = None
        text = ""
        if isinstance(element, Mapping):
            for key in ("email", "address", "account", "account_email"):
                value = element.get(key)
                if isinstance(value, str) and value.strip().lower() in wanted:
                    address = value.strip().lower()
                    break
            text = error_text(dict(element)) or error_text(element.get("errors")) or str(element)
        else:
            text = str(element)
            address = next((e for e in wanted if e in text.lower()), None)
        if address is not None:
            named.setdefault(address, text or "refused by the workspace")
        elif text:
            shared.append(text)
    return named, shared


class WorkspaceBatches:
    """The workspace rows of one run: `add` each, `flush` at the end."""

    def __init__(
        self,
        submitter: Submitter,
        ids: AccountIds,
        stop: StopControl,
        note: Callable[[Outcome], None],
        commit: Callable[[], None],
        earlier: Mapping[str, Pending] | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._submitter = submitter
        self._ids = ids
        self._stop = stop
        self._note = note  # journals an interim record
        self._commit = commit  # makes the journal durable now (before a batch is sent)
        self._earlier = dict(earlier or {})
        self._batch_size = batch_size
        self._clock = clock
        self._open: dict[int, list[NormalisedRow]] = {}
        self._resumed: dict[int | None, list[NormalisedRow]] = {}
        self._interim: dict[int, Outcome] = {}
        self._settle: Callable[[Outcome], None] = lambda outcome: None
        self._finish: Callable[[NormalisedRow, Outcome], Any] | None = None
        self.batches = 0
        self.tasks = 0

    def bind(
        self,
        settle: Callable[[Outcome], None],
        finish: Callable[[NormalisedRow, Outcome], Any] | None = None,
    ) -> None:
        """The pool's way to settle a row, and the steps after a row connected (settings)."""
        self._settle = settle
        self._finish = finish

    def interim(self, row: int) -> Outcome | None:
        """A row's journaled record while its batch is out: how a stop leaves it."""
        return self._interim.get(row)

    async def add(self, item: NormalisedRow) -> None:
        """Take a row; send its workspace's batch once full."""
        assert item.workspace is not None
        earlier = self._earlier.get(item.email)
        if earlier is not None:
            self._resumed.setdefault(earlier.task_id, []).append(item)
            return
        batch = self._open.setdefault(item.workspace, [])
        batch.append(item)
        if len(batch) >= self._batch_size:
            del self._open[item.workspace]
            await self._send(item.workspace, batch)

    async def flush(self) -> None:
        """Finish the rows of an earlier run's batches, then send every batch not full."""
        for task_id, items in list(self._resumed.items()):
            del self._resumed[task_id]
            await self._resume(task_id, items)
        for workspace, batch in list(self._open.items()):
            del self._open[workspace]
            await self._send(workspace, batch)

    async def _resume(self, task_id: int | None, items: list[NormalisedRow]) -> None:
        """Rows an earlier run sent in a batch: ask the task, else the listing; send again only
        addresses the listing does not show."""
        if self._stop.requested.is_set():
            return
        log.info(
            "%d rows were sent to an email workspace before the run stopped; asking %s.",
            len(items),
            f"task {task_id}" if task_id is not None else "the account listing",
        )
        if task_id is not None:
            for item in items:
                self._pending(item, task_id)
            task = await self._poll(task_id)
            if task is None:
                return  # stopped, or the task could not be read: left for the next --resume
            await self._settle_batch(items, task.get("errors"))
            return
        # Any listing made since this run began is after the crash: it shows what the batch did.
        listed = await self._listed(items, float("-inf"))
        if listed is None:
            return
        unsent: dict[int, list[NormalisedRow]] = {}
        for item in items:
            account = listed.get(item.email)
            if account is not None:
                await self._succeeded(item, account)
            else:
                unsent.setdefault(item.workspace or 0, []).append(item)
        for workspace, batch in unsent.items():
            await self._send(workspace, batch)

    async def _send(self, workspace: int, items: list[NormalisedRow]) -> None:
        if self._stop.requested.is_set():
            return  # left pending: the sweep reports them unprocessed
        for item in items:
            self._pending(item, None)
        self._commit()  # durable before the request: a crash now is resumed by asking
        self.batches += 1
        body: dict[str, object] = {"accounts": [item.email for item in items]}
        sub = await self._submitter.submit(body, batch_path(workspace))
        verdict = sub.verdict
        if verdict.action is not Action.ACCEPT:
            if (exit_code := STOP_EXIT_CODES.get(verdict.action)) is not None:
                self._stop.request(Unprocessed.ABORTED, exit_code, verdict.message)
            if sub.interrupted or exit_code is not None or sub.ambiguous:
                return  # left workspace_pending: the next --resume asks the listing
            for item in items:
                self._done(
                    outcomes.failed(
                        item.row,
                        item.email,
                        Stage.WORKSPACE,
                        verdict.code,
                        f"Workspace {workspace} refused the batch: {verdict.message}",
                        item.original,
                        http_status=sub.http_status,
                        attempts=sub.attempts,
                    )
                )
            return
        answer = sub.account or {}
        task_id = answer.get("task_id")
        errors = answer.get("errors")
        if isinstance(task_id, int) and answer.get("completed") is not True:
            self.tasks += 1
            for item in items:
                self._pending(item, task_id)
            self._commit()
            task = await self._poll(task_id)
            if task is None:
                return
            errors = task.get("errors")
        await self._settle_batch(items, errors)

    async def _poll(self, task_id: int) -> dict[str, Any] | None:
        """Ask the task until it completed, pausing longer each time; None if the run stopped
        or the task could not be read (its rows stay pending, for --resume)."""
        pause = POLL_FIRST_S
        deadline = self._clock() + POLL_LIMIT_S
        while self._clock() < deadline:
            if await self._stopped_within(pause):
                return None
            sub = await self._submitter.submit({}, task_path(task_id), method="GET")
            if sub.verdict.action is not Action.ACCEPT:
                if (exit_code := STOP_EXIT_CODES.get(sub.verdict.action)) is not None:
                    self._stop.request(Unprocessed.ABORTED, exit_code, sub.verdict.message)
                else:
                    log.warning("Task %d could not be read: %s", task_id, sub.verdict.message)
                return None
            task = sub.account or {}
            if task.get("completed") is True or str(task.get("status", "")).lower() in (
                "completed",
                "done",
                "finished",
                "failed",
            ):
                return task
            pause = min(pause * 2, POLL_CAP_S)
        log.warning("Task %d did not complete within %d s.", task_id, POLL_LIMIT_S)
        return None

    async def _settle_batch(self, items: list[NormalisedRow], errors: Any) -> None:
        """Each row's outcome once its batch completed: its error, else the listing's account
        (a listing started after now, so it shows what the batch made)."""
        named, shared = errors_by_email(errors, (item.email for item in items))
        since = self._clock()
        listed = await self._listed([i for i in items if i.email not in named], since)
        if listed is None:
            return
        for item in items:
            if item.email in named:
                message = f"Workspace {item.workspace} refused it: {named[item.email]}"
                self._done(self._failed(item, "workspace_refused", message))
            elif (account := listed.get(item.email)) is not None:
                await self._succeeded(item, account)
            else:
                reason = "; ".join(shared) or "MailReach does not list it after the batch"
                message = f"Workspace {item.workspace}: {reason}"
                self._done(self._failed(item, "workspace_failed", message))

    async def _listed(
        self, items: list[NormalisedRow], since: float
    ) -> dict[str, dict[str, Any]] | None:
        """The accounts of `items` as a listing made after `since` shows them."""
        if not items:
            return {}
        try:
            await self._ids.look_up(items[0].email, since)
        except ListingFailed as failed:
            self._stop.request(Unprocessed.ABORTED, failed.exit_code, failed.message)
            return None
        return {
            item.email: account
            for item in items
            if (account := self._ids.account(item.email)) is not None
        }

    async def _succeeded(self, item: NormalisedRow, account: dict[str, Any]) -> None:
        fields = account_fields(account, item.email) | account  # the listing's tracked fields
        fields.pop("id", None)
        fields |= {"attempts": 1, "action": "linked", "applied": f"workspace {item.workspace}"}
        outcome = Outcome(item.row, item.email, Status.SUCCEEDED, fields)
        if self._finish is not None and fields.get("account_id") is not None:
            outcome = await self._finish(item, outcome)
        self._done(outcome)

    def _failed(self, item: NormalisedRow, code: str, message: str) -> Outcome:
        fields: dict[str, Any] = {
            "stage": Stage.WORKSPACE.value,
            "error_code": code,
            "http_status": None,
            "message": message,
            "hint": hint_for(code),
            "attempts": 1,
        }
        return Outcome(item.row, item.email, Status.FAILED, fields, item.original)

    def _pending(self, item: NormalisedRow, task_id: int | None) -> None:
        record = Outcome(
            item.row,
            item.email,
            Status.UNPROCESSED,
            {"reason": PENDING.value, "workspace": item.workspace, "task_id": task_id},
        )
        self._interim[item.row] = record
        self._note(record)

    def _done(self, outcome: Outcome) -> None:
        self._interim.pop(outcome.row, None)
        self._settle(outcome)

    async def _stopped_within(self, seconds: float) -> bool:
        if self._stop.requested.is_set():
            return True
        try:
            async with asyncio.timeout(seconds):
                await self._stop.requested.wait()
        except TimeoutError:
            return False
        return True
