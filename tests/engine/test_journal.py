"""The journal: batched inserts that queries still see."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.base.outcomes import Outcome, Status
from bulk_onboard.engine.journal import INSERT_BATCH_ROWS, Journal


def valid(row: int, email: str) -> Outcome:
    return Outcome(row, email, Status.VALID, {"provider": "custom", "notes": "é"})


def test_recorded_rows_are_seen_by_queries_before_any_commit(tmp_path: Path) -> None:
    journal = Journal(tmp_path, clock=lambda: 0.0)
    for row in range(2, 2 + INSERT_BATCH_ROWS + 3):
        journal.record(valid(row, f"u{row}@x.test"))
    assert journal.counts() == {Status.VALID: INSERT_BATCH_ROWS + 3}
    assert [o.row for o in journal.outcomes(Status.VALID)][-1] == INSERT_BATCH_ROWS + 4
    journal.close()


def test_fields_and_original_round_trip(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    outcome = Outcome(3, "b@x.test", Status.FAILED, {"error_code": "x", "n": None, "ok": True},
                      {"Email": "b@x.test", "Note": "ünï\n\"q\""})  # fmt: skip
    journal.record(outcome)
    assert list(journal.outcomes(Status.FAILED)) == [outcome]
    assert journal.error_codes() == {"x": 1}
    journal.close()


def test_a_commit_happens_a_second_after_the_last_even_between_batches(tmp_path: Path) -> None:
    now = [0.0]
    journal = Journal(tmp_path, clock=lambda: now[0])
    journal.record(valid(2, "a@x.test"))
    now[0] = 1.5
    journal.record(valid(3, "b@x.test"))
    other = Journal(tmp_path)  # a second connection sees only what is committed
    assert other.counts() == {Status.VALID: 2}
    other.close()
    journal.close()


def test_emails_of_names_the_email_of_each_recorded_row(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for row in range(2, 1200):
        journal.record(valid(row, f"u{row}@x.test"))
    assert journal.emails_of([5, 1100, 99_999]) == {5: "u5@x.test", 1100: "u1100@x.test"}
    journal.close()
