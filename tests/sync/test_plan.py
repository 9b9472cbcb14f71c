"""Planning rows against the state and the listing, without a network."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.api.listing import Listing, LiveAccount
from bulk_onboard.base.changes import Change
from bulk_onboard.base.outcomes import Outcome, Status
from bulk_onboard.rows.normalise import NormaliseOptions
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table
from bulk_onboard.sync.fingerprint import Fingerprinter
from bulk_onboard.sync.plan import Prepared, SyncBook, prepare
from bulk_onboard.sync.state import AccountState

HEADER = "Email,First Name,Last Name,IMAP Host,IMAP Port,SMTP Host,SMTP Port,Password"


def prepared_rows(tmp_path: Path, *lines: str) -> list[Prepared]:
    sheet = tmp_path / "in.csv"
    sheet.write_text("\n".join((HEADER, *lines)) + "\n")
    table = open_table(str(sheet))
    rows = (raw for chunk in table.chunks for raw in chunk)
    columns = ColumnMap.from_headers(table.headers)
    return prepare(rows, columns, NormaliseOptions(), Fingerprinter(b"k" * 32))


def row(email: str, port: str = "993", password: str = "pw-123456") -> str:
    return f"{email},Ann,Lee,imap.x.test,{port},smtp.x.test,587,{password}"


def book_of(known: dict[str, AccountState], live: dict[str, LiveAccount]) -> SyncBook:
    saved: list[tuple[AccountState, list[Change]]] = []
    return SyncBook(
        known,
        Listing(live, 1, 1, False),
        lambda record, changes: saved.append((record, changes)),
        resubmit_all=False,
        score_delta=5,
    )


def test_a_repeated_email_fails_locally_and_is_not_submitted(tmp_path: Path) -> None:
    first, repeat = prepared_rows(tmp_path, row("a@x.test"), row("a@x.test", password="other"))
    book = book_of({}, {})
    assert book.plan(first) is None
    outcome = book.plan(repeat)
    assert outcome is not None
    assert outcome.fields["error_code"] == "duplicate_email"
    assert (book.submits(first.row), book.submits(repeat.row)) == (True, False)


def test_a_row_made_invalid_keeps_its_account_in_the_sheet(tmp_path: Path) -> None:
    (broken,) = prepared_rows(tmp_path, row("a@x.test", port="99999"))
    known = {"a@x.test": AccountState("a@x.test", 7, "v1:x", "succeeded", None, True)}
    book = book_of(known, {"a@x.test": LiveAccount(7, {})})
    outcome = book.plan(broken)
    assert outcome is not None
    assert outcome.status is Status.FAILED
    book.close_sheet()
    assert book.changes == []


def test_an_account_made_by_hand_is_reported_once_as_not_in_the_sheet(tmp_path: Path) -> None:
    (only,) = prepared_rows(tmp_path, row("a@x.test"))
    live = {"a@x.test": LiveAccount(1, {}), "hand@x.test": LiveAccount(2, {})}
    known: dict[str, AccountState] = {}
    book = book_of(known, live)
    book.plan(only)
    book.close_sheet()
    assert Change("hand@x.test", "in_sheet", None, False) in book.changes
    again = book_of(known, live)
    again.plan(only)
    again.close_sheet()
    assert [c for c in again.changes if c.email == "hand@x.test"] == []


def test_an_account_deleted_in_mailreach_is_made_again_and_reported(tmp_path: Path) -> None:
    (only,) = prepared_rows(tmp_path, row("a@x.test"))
    known = {"a@x.test": AccountState("a@x.test", 7, only.fingerprint, "succeeded", None, True)}
    book = book_of(known, {})
    assert book.plan(only) is None
    assert book.reasons == {"missing_in_mailreach": 1}
    book.settled(Outcome(only.row, "a@x.test", Status.SUCCEEDED, {"account_id": 12}))
    assert book.changes == [Change("a@x.test", "account_id", 7, 12)]
