"""The preflight of spreadsheet rows: complete rows lacking servers, check them, settle or pass.

One `RowPreflight` per run. `check` (the command) settles every row here; `run --preflight`
hands the rows that passed back to the worker, which submits them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bulk_onboard.base import outcomes
from bulk_onboard.base.outcomes import Outcome, Stage, Status
from bulk_onboard.base.redaction import Redactor
from bulk_onboard.preflight.completion import Completer
from bulk_onboard.preflight.discovery import discover
from bulk_onboard.preflight.mailbox import MailboxReport, mailbox_of
from bulk_onboard.preflight.probe import Prober
from bulk_onboard.preflight.settings import PreflightSettings
from bulk_onboard.preflight.smtp import auth_type_of
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions
from bulk_onboard.rows.request import secrets_in
from bulk_onboard.rows.screening import Screen
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import RawRow

AUTH_TYPE = "smtp_server_auth_type"
# Columns `check` adds after succeeded.csv's own (which keep their meaning: SPEC.md).
CHECK_COLUMNS = (
    "imap_server", "imap_server_port", "smtp_server", "smtp_server_port", "servers_found",
    "hosts_guessed",
    "dkim_selector", "dns_ms", "imap_ms", "smtp_ms", "notes",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RowReport:
    """One row after its preflight: the row as checked, and what the checks found."""

    item: NormalisedRow
    report: MailboxReport | None  # None when the row failed before any check
    rejected: Outcome | None  # the failed outcome, if the row must not be submitted
    elapsed_ms: int
    found: str = ""  # servers discovery filled in, if any
    guessed: bool = False  # one of them is the `mail.<domain>` guess


class RowPreflight:
    """Checks rows of one sheet through a `Prober`, at most `concurrency` at a time."""

    def __init__(
        self,
        prober: Prober,
        columns: ColumnMap,
        options: NormaliseOptions,
        *,
        concurrency: int,
    ) -> None:
        self._prober = prober
        self._columns = columns
        self._completer = Completer(columns, options)
        self._slots = asyncio.Semaphore(concurrency)
        self._raw: dict[int, RawRow] = {}  # rows adopted for completion, until checked

    def adopt(self, raw: RawRow, item: NormalisedRow) -> bool:
        """Take a row whose only problems are missing servers, for discovery to complete.

        The caller then screens it for duplicates only and passes it to `inspect` as it is.
        """
        if not self._completer.lacks_only_servers(item):
            return False
        self._raw[item.row] = raw
        return True

    async def inspect(self, item: NormalisedRow) -> RowReport:
        """Complete (if adopted) and check one row."""
        async with self._slots:
            started = time.monotonic()
            report = rejected = None
            found, guessed = "", False
            raw = self._raw.pop(item.row, None)
            selector = self._dkim_selector(item)
            if raw is not None:
                domain = await self._prober.domain(item.email.rpartition("@")[2], selector)
                servers = await discover(self._prober.dns, domain.domain, domain.mx_records)
                completed = self._completer.complete(raw, item, servers)
                item, found, guessed = completed.item, completed.found, completed.guessed
                rejected = Screen().reject(item)
            if rejected is None:
                assert item.request is not None
                body = item.request.to_body()
                report = await self._prober.check(mailbox_of(body), selector)
                failure = report.verdict()
                if failure is not None:
                    # The servers' replies and errors, which may repeat a password sent to them.
                    said = Redactor(secrets_in(body))(failure.message)
                    message = said + (f" Not in the sheet: {found}" if found else "")
                    rejected = outcomes.failed(
                        item.row, item.email, Stage.PREFLIGHT, failure.code, message,
                        item.original, attempts=1,
                    )  # fmt: skip
                else:
                    item = self._with_accepted_auth_type(item, report)
            elapsed_ms = round((time.monotonic() - started) * 1000)
            return RowReport(item, report, rejected, elapsed_ms, found, guessed)

    def _with_accepted_auth_type(self, item: NormalisedRow, report: MailboxReport) -> NormalisedRow:
        return with_accepted_auth_type(
            item, report, sheet_names_one=bool(self._sheet_cell(item, AUTH_TYPE))
        )

    def _sheet_cell(self, item: NormalisedRow, field: str) -> str:
        """The row's own cell of `field`, trimmed ("" when the sheet has no such column)."""
        if field not in self._columns.index:
            return ""
        return item.original.get(self._columns.header_for(field), "").strip()

    def _dkim_selector(self, item: NormalisedRow) -> str | None:
        """The row's own `DKIM Selector` cell, if the sheet has one."""
        return self._sheet_cell(item, "dkim_selector").lower() or None

    async def __call__(self, item: NormalisedRow) -> NormalisedRow | Outcome:
        """`run --preflight`: the row to submit (completed if it had to be), or its failure."""
        checked = await self.inspect(item)
        return checked.rejected or checked.item

    async def verdict(self, item: NormalisedRow) -> Outcome:
        """`check`: the row's settled outcome, succeeded with its DNS columns or failed."""
        checked = await self.inspect(item)
        if checked.rejected is not None:
            return checked.rejected
        assert checked.report is not None
        return Outcome(
            item.row, item.email, Status.SUCCEEDED, passed_fields(checked, checked.report)
        )


def passed_fields(checked: RowReport, report: MailboxReport) -> dict[str, Any]:
    """succeeded.csv columns of a row that passed `check`."""
    item = checked.item
    assert item.request is not None
    request = item.request
    domain = report.domain
    notes = [*item.notes, *domain.gaps(), *report.in_clear()]
    return {
        "provider": request.provider,
        **domain.columns(),
        "attempts": 1,
        "elapsed_ms": checked.elapsed_ms,
        "imap_server": request.imap_server,
        "imap_server_port": request.imap_server_port,
        "smtp_server": request.smtp_server,
        "smtp_server_port": request.smtp_server_port,
        "smtp_server_auth_type": smtp_auth_type(report) or request.smtp_server_auth_type,
        "servers_found": checked.found,
        "hosts_guessed": checked.guessed,
        "dkim_selector": domain.dkim_selector,
        "dns_ms": domain.elapsed_ms,
        "imap_ms": None if report.imap is None else report.imap.elapsed_ms,
        "smtp_ms": None if report.smtp is None else report.smtp.elapsed_ms,
        "notes": " ".join(notes),
    }


def with_accepted_auth_type(
    item: NormalisedRow, report: MailboxReport, *, sheet_names_one: bool
) -> NormalisedRow:
    """The row to send, its SMTP auth type the one the server offered and accepted, unless the
    sheet names one: MailReach then logs in the way that just worked."""
    accepted = smtp_auth_type(report)
    if accepted is None or item.request is None or sheet_names_one:
        return item
    request = item.request.model_copy(update={AUTH_TYPE: accepted})
    return dataclasses.replace(item, request=request)


def smtp_auth_type(report: MailboxReport) -> str | None:
    """The API's auth type for the SMTP AUTH mechanism the server accepted, if it was tried."""
    smtp = report.smtp
    if smtp is None or not smtp.ok or smtp.mechanism is None:
        return None
    return auth_type_of(smtp.mechanism)


@contextlib.asynccontextmanager
async def row_preflight(
    settings: PreflightSettings, columns: ColumnMap, options: NormaliseOptions
) -> AsyncIterator[RowPreflight]:
    """A `RowPreflight` (and its `Prober`) for the rows of one sheet, for one run."""
    async with Prober(settings) as prober:
        yield RowPreflight(prober, columns, options, concurrency=settings.concurrency)
