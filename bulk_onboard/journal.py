"""The run journal: one SQLite row per settled input row, committed as rows settle.

Reports are rebuilt from it, so a report always matches the journal. WAL mode with batched
commits (at most about once a second) keeps the cost per row to a few microseconds. It holds
exactly what the reports hold: never a password or the key.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from bulk_onboard.atomic import FILE_MODE
from bulk_onboard.outcomes import Outcome, Status

JOURNAL_NAME = "journal.sqlite"
COMMIT_EVERY_S = 1.0

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

    def record(self, outcome: Outcome) -> None:
        """Store one row's outcome (replacing an earlier one for that row, e.g. on resume)."""
        self._db.execute(
            "INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?, ?)",
            (
                outcome.row,
                outcome.email,
                outcome.status.value,
                outcome.fields.get("error_code") or outcome.fields.get("reason"),
                json.dumps(outcome.fields, separators=(",", ":")),
                None if outcome.original is None else json.dumps(outcome.original),
            ),
        )
        if self._clock() - self._last_commit >= COMMIT_EVERY_S:
            self.commit()

    def commit(self) -> None:
        self._db.commit()
        self._last_commit = self._clock()

    def close(self) -> None:
        self.commit()
        self._db.close()

    def counts(self) -> Counter[str]:
        """Rows per status."""
        rows = self._db.execute("SELECT status, COUNT(*) FROM outcomes GROUP BY status")
        return Counter({status: n for status, n in rows})

    def error_codes(self) -> Counter[str]:
        """Failed rows per error_code."""
        rows = self._db.execute(
            "SELECT code, COUNT(*) FROM outcomes WHERE status = ? GROUP BY code",
            (Status.FAILED.value,),
        )
        return Counter({code: n for code, n in rows})

    def settled_rows(self) -> set[int]:
        """Row numbers with a final outcome (unprocessed rows are not final)."""
        rows = self._db.execute(
            "SELECT row FROM outcomes WHERE status != ?", (Status.UNPROCESSED.value,)
        )
        return {row for (row,) in rows}

    def outcomes(self, status: Status) -> Iterator[Outcome]:
        """Outcomes of one status in row order."""
        cursor = self._db.execute(
            "SELECT row, email, fields, original FROM outcomes WHERE status = ? ORDER BY row",
            (status.value,),
        )
        for row, email, fields, original in cursor:
            yield Outcome(
                row,
                email,
                status,
                json.loads(fields),
                None if original is None else json.loads(original),
            )
