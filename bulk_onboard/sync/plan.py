"""What `sync` does with each row, and what it learns from each outcome: the state's bookkeeping.

Planning is split in two so the costly half overlaps the account listing: `prepare` (normalise,
screen, fingerprint: CPU only, needs no network, runs in a thread) and `SyncBook.plan` (the
rule `decide` against the state and the listing). Rows settled locally — unchanged (skipped),
invalid or repeated (failed) — never reach the pool; it is given only the rows to submit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bulk_onboard.api.accounts import tracked
from bulk_onboard.api.listing import Listing, LiveAccount
from bulk_onboard.base.changes import Change
from bulk_onboard.base.outcomes import Outcome, Status
from bulk_onboard.engine.after_connect import Connected
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.screening import Screen
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import RawRow
from bulk_onboard.sync.drift import compare, joined_sheet, left_sheet
from bulk_onboard.sync.fingerprint import Fingerprinter, connect_part
from bulk_onboard.sync.state import AccountState

UNCHANGED_REASON = "unchanged"  # skipped.csv's reason
# A row failed with these connected: its settings or tags are what is left to send.
STEP_CODES = frozenset({"settings_failed", "tags_failed", "unknown_tag"})
ACCOUNT_ID = "account_id"  # changes.csv field of an account made again after a deletion


class Reason(StrEnum):
    """Why a row is submitted, or not."""

    NEW = "new"  # never sent (or the state was lost)
    CHANGED = "changed"  # its fingerprint differs from the one last sent
    FAILED_LAST_TIME = "failed_last_time"  # last outcome was not a success
    MISSING = "missing_in_mailreach"  # sent before, but MailReach no longer lists it
    ALL = "all"  # --all
    # The connect is unchanged, but the settings or tags changed, or failed last time: only
    # `POST /v1/accounts/{id}` and the tag links are sent, no imap_auth.
    SETTINGS_OR_TAGS = "settings_or_tags"
    UNCHANGED = "unchanged"  # skipped, no API call


def decide(
    fingerprint: str, known: AccountState | None, live: LiveAccount | None, *, resubmit_all: bool
) -> Reason:
    """Whether a valid row with this fingerprint must be submitted, and why."""
    if resubmit_all:
        return Reason.ALL
    if known is None or known.fingerprint is None:
        return Reason.NEW
    connected = live is not None and connect_part(known.fingerprint) == connect_part(fingerprint)
    if known.outcome != Status.SUCCEEDED.value:
        if connected and known.error_code in STEP_CODES:
            return Reason.SETTINGS_OR_TAGS  # connected last time; only a later step failed
        return Reason.FAILED_LAST_TIME
    if known.fingerprint != fingerprint:
        return Reason.SETTINGS_OR_TAGS if connected else Reason.CHANGED
    if live is None:
        return Reason.MISSING
    return Reason.UNCHANGED


@dataclass(frozen=True, slots=True)
class Prepared:
    """A row reduced to what planning needs (no request, so no password, is kept)."""

    row: int
    email: str
    fingerprint: str | None  # None: the row failed locally
    failed: Outcome | None  # invalid, or a repeat of an earlier row's email


def prepare(
    rows: Iterable[RawRow],
    columns: ColumnMap,
    options: NormaliseOptions,
    fingerprinter: Fingerprinter,
) -> list[Prepared]:
    """Normalise, screen and fingerprint every row. Pure CPU: safe to run in a thread."""
    screen = Screen()
    prepared = []
    for raw in rows:
        item = normalise(raw, columns, options)
        failed = screen.reject(item)
        fingerprint = None
        if failed is None and item.request is not None:
            fingerprint = fingerprinter.of_row(item)
        prepared.append(Prepared(item.row, item.email, fingerprint, failed))
    return prepared


class SyncBook:
    """Plans rows against the state and the listing; learns from their outcomes."""

    def __init__(
        self,
        known: dict[str, AccountState],
        listing: Listing,
        save: Callable[[AccountState, list[Change]], None],
        *,
        resubmit_all: bool,
        score_delta: float,
    ) -> None:
        self._known = known
        self._listing = listing
        self._save = save
        self._resubmit_all = resubmit_all
        self._score_delta = score_delta
        self._to_submit: dict[int, _Planned] = {}
        # Rows whose connect is unchanged: their account, for the steps after a connect alone.
        self._steps_only: dict[str, Connected] = {}
        self._sheet: set[str] = set()
        self.reasons: Counter[str] = Counter()
        self.changes: list[Change] = []  # found by this run, in order
        self._unsaved: list[Change] = []  # found since the last save: stored with the record

    def plan(self, row: Prepared) -> Outcome | None:
        """The outcome of a row settled here (skipped or failed); None if it is to be submitted."""
        email = row.email
        if email and email not in self._sheet:
            self._join_sheet(email)
        if row.failed is not None:
            return row.failed
        # Screen passed it, so it has a request: an email and a fingerprint.
        assert row.fingerprint is not None
        record = self._known[email]
        live = self._listing.accounts.get(email)
        moved = live is not None and live.account_id != record.account_id
        if live is not None:
            record.account_id = live.account_id
        reason = decide(row.fingerprint, record, live, resubmit_all=self._resubmit_all)
        self.reasons[reason] += 1
        if reason is not Reason.UNCHANGED:
            self._to_submit[row.row] = _Planned(email, row.fingerprint, live)
            if reason is Reason.SETTINGS_OR_TAGS and live is not None:
                account = {"account_id": live.account_id, **live.seen}
                linked = tuple(f"tag:{tag}" for tag in live.tag_ids)  # not linked again
                self._steps_only[email] = Connected(account, linked)
            return None
        if self._observe(record, live.seen if live else {}) or moved:
            self._keep(record)
        return Outcome(row.row, email, Status.SKIPPED, {"reason": UNCHANGED_REASON})

    def _join_sheet(self, email: str) -> None:
        self._sheet.add(email)
        record = self._known.get(email)
        if record is None:
            record = self._known[email] = AccountState(email)
        if not record.in_sheet:
            self._note(joined_sheet(email))
            record.in_sheet = True
            self._keep(record)

    @property
    def steps_only(self) -> dict[str, Connected]:
        """Emails to send only their settings and tag links (no imap_auth), with the account."""
        return self._steps_only

    def submits(self, row: int) -> bool:
        """Whether the pool must submit this row."""
        return row in self._to_submit

    def body_for(self, item: NormalisedRow) -> dict[str, object]:
        """The request body, with the account's `id` when MailReach already has the email."""
        assert item.request is not None
        body = item.request.to_body()
        planned = self._to_submit.get(item.row)
        if planned is not None and planned.live is not None and "id" not in body:
            body["id"] = planned.live.account_id
        return body

    def settled(self, outcome: Outcome) -> None:
        """Learn from a row the pool settled."""
        planned = self._to_submit.get(outcome.row)
        if planned is None:
            return
        record = self._known[planned.email]
        seen: dict[str, Any] = planned.live.seen if planned.live else {}
        if outcome.status is Status.SUCCEEDED:
            account_id = outcome.fields.get("account_id")
            if isinstance(account_id, int):
                if record.account_id is not None and record.account_id != account_id:
                    # Deleted in MailReach since the last sync, and made again from the sheet.
                    self._note(Change(record.email, ACCOUNT_ID, record.account_id, account_id))
                record.account_id = account_id
            record.fingerprint = planned.fingerprint
            record.outcome, record.error_code = Status.SUCCEEDED.value, None
            seen = tracked(outcome.fields)
        elif outcome.status is Status.FAILED:
            record.fingerprint = planned.fingerprint
            record.outcome, record.error_code = (
                Status.FAILED.value,
                outcome.fields.get("error_code"),
            )
        # Unprocessed: what was last sent and how it ended are unchanged; next run tries again.
        self._observe(record, seen)
        self._keep(record)

    def close_sheet(self) -> None:
        """After every row: note the emails that are not (or no longer) in the sheet."""
        for email, live in self._listing.accounts.items():
            if email in self._sheet:
                continue
            record = self._known.get(email)
            if record is None:
                record = self._known[email] = AccountState(email)
                self._note(left_sheet(email, None))
            elif record.in_sheet:
                self._note(left_sheet(email, True))
            else:
                continue
            record.in_sheet, record.account_id = False, live.account_id
            self._keep(record)
        for email, record in self._known.items():
            if record.in_sheet and email not in self._sheet:
                self._note(left_sheet(email, True))
                record.in_sheet = False
                self._keep(record)

    def _note(self, *changes: Change) -> None:
        self.changes.extend(changes)
        self._unsaved.extend(changes)

    def _keep(self, record: AccountState) -> None:
        """Save a record with the changes found since the last save, in one go: a run killed
        in between loses both or neither."""
        self._save(record, self._unsaved)
        self._unsaved = []

    def _observe(self, record: AccountState, seen: dict[str, Any]) -> bool:
        """Note the drift of `seen` from what the record remembers; True if that moved."""
        changes, remembered = compare(record.email, record.remembered, seen, self._score_delta)
        self._note(*changes)
        if remembered == record.remembered:
            return False
        record.remembered = remembered
        return True


@dataclass(frozen=True, slots=True)
class _Planned:
    email: str
    fingerprint: str
    live: LiveAccount | None
