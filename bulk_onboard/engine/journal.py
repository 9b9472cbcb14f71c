"""The run journal: one SQLite row per settled input row, committed as rows settle.

Reports are rebuilt from it, so a report always matches the journal. Rows are inserted in
batches and committed at most about once a second (WAL mode), which keeps the cost per row to a
few microseconds. It holds exactly what the reports hold: never a password or the key.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import NamedTuple

import orjson

from bulk_onboard.base.atomic import FILE_MODE
from bulk_onboard.base.outcomes import Outcome, Status

JOURNAL_NAME = "journal.sqlite"
COMMIT_EVERY_S = 1.0
INSERT_BATCH_ROWS = 500  # rows held in memory before they go to SQLite (uncommitted)
_INSERT = "INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?, ?)"
_ROWS_PER_QUERY = 500  # well under SQLite's limit on parameters

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    row INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT,
    fields TEXT NOT NULL,
    original TEXT
);
"""


class Rekeyed(NamedTuple):
    """What following a changed sheet did to the journal's entries."""

    moved: int  # to another row number: the same mailbox moved in the sheet
    gone: int  # dropped: the mailbox is no longer in the sheet
    gone_connected: int  # of those, the ones with an account id (their accounts stay)


class Journal:
    """Open with `Journal(run_dir)`; `record()` each outcome; `close()` commits."""

    def __init__(self, run_dir: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = run_dir / JOURNAL_NAME
        old_umask = os.umask(0o077)  # the -wal and -shm files are created 0600 too
        try:
            self._db = sqlite3.connect(self.path, isolation_level="DEFERRED")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()
        finally:
            os.umask(old_umask)
        os.chmod(self.path, FILE_MODE)
        self._clock = clock
        self._last_commit = clock()
        self._pending: list[tuple[int, str, str, str | None, str, str | None]] = []

    def record(self, outcome: Outcome) -> None:
        """Store one row's outcome (replacing an earlier one for that row, e.g. on resume)."""
        fields = outcome.fields
        self._pending.append(
            (
                outcome.row,
                outcome.email,
                outcome.status.value,
                # failed: error_code, unprocessed/skipped: reason, succeeded: action
                fields.get("error_code") or fields.get("reason") or fields.get("action"),
                orjson.dumps(fields).decode(),
                None if outcome.original is None else orjson.dumps(outcome.original).decode(),
            )
        )
        if len(self._pending) >= INSERT_BATCH_ROWS:
            self._flush()
        if self._clock() - self._last_commit >= COMMIT_EVERY_S:
            self.commit()

    def commit(self) -> None:
        """Make every recorded outcome durable."""
        self._flush()
        self._db.commit()
        self._last_commit = self._clock()

    def _flush(self) -> None:
        # Batched: one executemany costs a fraction of as many single inserts. Uncommitted rows
        # are lost on a crash either way, so holding a few in memory first changes nothing.
        if self._pending:
            self._db.executemany(_INSERT, self._pending)
            self._pending.clear()

    def close(self) -> None:
        self.commit()
        self._db.close()

    def counts(self) -> Counter[str]:
        """Rows per status."""
        self._flush()
        rows = self._db.execute("SELECT status, COUNT(*) FROM outcomes GROUP BY status")
        return Counter({status: n for status, n in rows})

    def error_codes(self) -> Counter[str]:
        """Failed rows per error_code."""
        self._flush()
        rows = self._db.execute(
            "SELECT code, COUNT(*) FROM outcomes WHERE status = ? GROUP BY code",
            (Status.FAILED.value,),
        )
        return Counter({code: n for code, n in rows})

    def actions(self) -> Counter[str]:
        """Succeeded rows per action (created, updated, tested); rows of older runs that
        recorded none are left out."""
        self._flush()
        rows = self._db.execute(
            "SELECT code, COUNT(*) FROM outcomes WHERE status = ? AND code IS NOT NULL "
            "GROUP BY code",
            (Status.SUCCEEDED.value,),
        )
        return Counter({code: n for code, n in rows})

    def with_codes(self, codes: Collection[str]) -> int:
        """Rows whose code (error_code, reason or action) is one of `codes`."""
        self._flush()
        marks = ",".join("?" * len(codes))  # only placeholders go into the text
        query = f"SELECT COUNT(*) FROM outcomes WHERE code IN ({marks})"  # noqa: S608
        return int(self._db.execute(query, list(codes)).fetchone()[0])

    def settled_emails(self) -> dict[int, str]:
        """Row number → email of rows with a final outcome (unprocessed rows are not final)."""
        self._flush()
        rows = self._db.execute(
            "SELECT row, email FROM outcomes WHERE status != ?", (Status.UNPROCESSED.value,)
        )
        return dict(rows.fetchall())

    def rekey(self, sheet: dict[int, str]) -> Rekeyed:
        """Follow rows that moved in the sheet (row → email now); drop mailboxes no longer in it.

        The k-th journal entry for an email goes to the k-th row holding that email now, so
        duplicates keep their order. Returns how many entries moved, and went.
        """
        self._flush()
        entries = self._db.execute("SELECT * FROM outcomes ORDER BY row").fetchall()
        rows_of: dict[str, list[int]] = {}
        for row, email in sorted(sheet.items()):
            rows_of.setdefault(email, []).append(row)
        kept, moved = [], []
        for entry in entries:
            row, email = entry[0], entry[1]
            free = rows_of.get(email)
            if sheet.get(row) == email and free and row in free:
                free.remove(row)
                kept.append(entry)
            else:
                moved.append(entry)
        gone, gone_connected = 0, 0
        for entry in moved:
            free = rows_of.get(entry[1]) if entry[1] else None
            if free:
                kept.append((free.pop(0), *entry[1:]))
            else:
                gone += 1
                gone_connected += orjson.loads(entry[4]).get("account_id") is not None
        self._db.execute("DELETE FROM outcomes")
        self._db.executemany(_INSERT, kept)
        self.commit()
        return Rekeyed(len(moved) - gone, gone, gone_connected)

    def emails_of(self, rows: Collection[int]) -> dict[int, str]:
        """The email recorded for each of `rows` that has an outcome."""
        self._flush()
        found: dict[int, str] = {}
        listed = list(rows)
        for start in range(0, len(listed), _ROWS_PER_QUERY):
            part = listed[start : start + _ROWS_PER_QUERY]
            marks = ",".join("?" * len(part))  # only placeholders go into the text
            query = f"SELECT row, email FROM outcomes WHERE row IN ({marks})"  # noqa: S608
            found.update(self._db.execute(query, part))
        return found

    def outcomes(self, status: Status) -> Iterator[Outcome]:
        """Outcomes of one status in row order."""
        self._flush()
        cursor = self._db.execute(
            "SELECT row, email, fields, original FROM outcomes WHERE status = ? ORDER BY row",
            (status.value,),
        )
        for row, email, fields, original in cursor:
            yield Outcome(
                row,
                email,
                status,
                orjson.loads(fields),
                None if original is None else orjson.loads(original),
            )
