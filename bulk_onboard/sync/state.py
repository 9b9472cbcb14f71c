"""The sync state: what earlier syncs learnt per email, in one SQLite file (0600, WAL).

Per email: the MailReach account id, the keyed fingerprint of the request last sent (never the
request, never a password), the last outcome, and the last reported scores and DNS flags. Also
the changes found but not yet reported, stored with the record they moved, so a killed run's
changes are reported by the next run rather than lost; and a table of runs.

The schema version is SQLite's `user_version`; `MIGRATIONS[n]` takes a file from version n to
n + 1, and opening a file migrates it forward, each step in one transaction. Writes are committed
at most about once a second: a killed run loses at most that second, and the rows it forgets are
simply sent again next time (with the id the listing gives, so that never duplicates an
account).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulk_onboard.api.accounts import FLAG_FIELDS, TRACKED_FIELDS
from bulk_onboard.base.atomic import FILE_MODE
from bulk_onboard.base.changes import Change
from bulk_onboard.errors import UsageError

DEFAULT_STATE_NAME = "sync-state.sqlite"
BUSY_TIMEOUT_MS = 10_000
COMMIT_EVERY_S = 1.0

# History, not configuration: never edit a shipped step, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (
        email TEXT PRIMARY KEY,
        account_id INTEGER,
        fingerprint TEXT,
        outcome TEXT,
        error_code TEXT,
        in_sheet INTEGER NOT NULL DEFAULT 0,
        score NUMERIC, score_gmail NUMERIC, score_outlook NUMERIC, score_custom NUMERIC,
        alive INTEGER, suspended INTEGER, imap_issue INTEGER,
        spf_valid INTEGER, dkim_valid INTEGER, dmarc_valid INTEGER,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY,
        email TEXT NOT NULL,
        field TEXT NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        input TEXT,
        input_sha256 TEXT,
        exit_code INTEGER,
        counts TEXT
    );
    """,
    # Issue 11: the warm-up settings are tracked for drift like the scores.
    """
    ALTER TABLE accounts ADD COLUMN config_max_conversation_running INTEGER;
    ALTER TABLE accounts ADD COLUMN config_rampup_increase INTEGER;
    ALTER TABLE accounts ADD COLUMN config_rampup_target INTEGER;
    """,
)

# Column names below are constants of this module, never input: the f-strings are safe.
_ACCOUNT_COLUMNS = (
    "email", "account_id", "fingerprint", "outcome", "error_code", "in_sheet",
    *TRACKED_FIELDS, "updated_at",
)  # fmt: skip
_COLUMN_LIST = ", ".join(_ACCOUNT_COLUMNS)
_PLACEHOLDERS = ", ".join("?" for _ in _ACCOUNT_COLUMNS)
_UPSERT = f"INSERT OR REPLACE INTO accounts ({_COLUMN_LIST}) VALUES ({_PLACEHOLDERS})"  # noqa: S608


class StateError(UsageError):
    """The state file can't be used as it is; the sentence says what to do."""


@dataclass(slots=True)
class AccountState:
    """What the state knows of one email."""

    email: str
    account_id: int | None = None
    fingerprint: str | None = None  # of the request last sent; None: never sent
    outcome: str | None = None  # "succeeded" or "failed"; None: never settled by the API
    error_code: str | None = None
    in_sheet: bool = False  # was in the sheet at the last sync
    remembered: dict[str, Any] = field(default_factory=dict)  # last reported tracked fields


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StateStore:
    """`StateStore(path)` opens (creating and migrating) the state; `close()` commits."""

    def __init__(
        self,
        path: Path,
        *,
        migrations: Sequence[str] = MIGRATIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        old_umask = os.umask(0o077)  # the -wal and -shm files are created 0600 too
        try:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
                _migrate(self._db, migrations, path)
            except sqlite3.DatabaseError as exc:
                self._db.close()
                raise StateError(
                    f"The sync state {path} can't be used ({exc}): move it away and run again; "
                    "the next sync rebuilds it from MailReach's account list."
                ) from None
            except BaseException:
                self._db.close()
                raise
        finally:
            os.umask(old_umask)
        os.chmod(path, FILE_MODE)
        self._clock = clock
        self._last_commit = clock()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def load(self) -> dict[str, AccountState]:
        """Every email the state knows, by email."""
        cursor = self._db.execute(f"SELECT {_COLUMN_LIST} FROM accounts")  # noqa: S608
        return {row[0]: _account_from_row(row) for row in cursor}

    def put(self, account: AccountState) -> None:
        """Store (insert or replace) what is known of one email."""
        values = [account.remembered.get(name) for name in TRACKED_FIELDS]
        self._db.execute(
            _UPSERT,
            (
                account.email,
                account.account_id,
                account.fingerprint,
                account.outcome,
                account.error_code,
                int(account.in_sheet),
                *values,
                _now(),
            ),
        )
        if self._clock() - self._last_commit >= COMMIT_EVERY_S:
            self.commit()

    def add_changes(self, changes: Sequence[Change]) -> None:
        """Keep changes found but not yet reported; committed with the records they belong to."""
        self._db.executemany(
            "INSERT INTO changes (email, field, before, after) VALUES (?, ?, ?, ?)",
            [(c.email, c.field, json.dumps(c.before), json.dumps(c.after)) for c in changes],
        )

    def pending_changes(self) -> list[Change]:
        """Every change not yet reported, oldest first (a killed run's included)."""
        cursor = self._db.execute("SELECT email, field, before, after FROM changes ORDER BY seq")
        return [Change(e, f, json.loads(b), json.loads(a)) for e, f, b, a in cursor]

    def clear_changes(self) -> None:
        """Forget the pending changes, once a changes.csv holding them is written."""
        self._db.execute("DELETE FROM changes")
        self.commit()

    def meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    def begin_run(self, run_id: str, started_at: str, input_path: str, sha256: str) -> None:
        """Note a run as started (committed at once: a killed run still shows in the table)."""
        self._db.execute(
            "INSERT OR REPLACE INTO runs (run_id, started_at, input, input_sha256) "
            "VALUES (?, ?, ?, ?)",
            (run_id, started_at, input_path, sha256),
        )
        self.commit()

    def finish_run(
        self, run_id: str, finished_at: str, exit_code: int, counts: Mapping[str, Any]
    ) -> None:
        self._db.execute(
            "UPDATE runs SET finished_at = ?, exit_code = ?, counts = ? WHERE run_id = ?",
            (finished_at, exit_code, json.dumps(counts, sort_keys=True), run_id),
        )
        self.commit()

    def runs(self) -> list[dict[str, Any]]:
        """The runs table, oldest first."""
        cursor = self._db.execute(
            "SELECT run_id, started_at, finished_at, exit_code, counts FROM runs ORDER BY rowid"
        )
        names = ("run_id", "started_at", "finished_at", "exit_code", "counts")
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def commit(self) -> None:
        self._db.commit()
        self._last_commit = self._clock()

    def close(self) -> None:
        self.commit()
        self._db.close()


def _migrate(db: sqlite3.Connection, migrations: Sequence[str], path: Path) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(migrations):
        raise StateError(
            f"The sync state {path} was written by a newer bulk-onboard (schema {version}, this "
            f"one knows up to {len(migrations)}): upgrade bulk-onboard."
        )
    for number, script in enumerate(migrations[version:], start=version + 1):
        # executescript commits first and then runs the text as given, so BEGIN/COMMIT here
        # make each step all-or-nothing, its version bump included.
        try:
            db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        except sqlite3.Error:
            if db.in_transaction:
                db.rollback()
            raise


def _account_from_row(row: Sequence[Any]) -> AccountState:
    email, account_id, fingerprint, outcome, error_code, in_sheet = row[:6]
    tracked = dict(zip(TRACKED_FIELDS, row[6 : 6 + len(TRACKED_FIELDS)], strict=True))
    remembered = {
        name: bool(value) if name in FLAG_FIELDS else value
        for name, value in tracked.items()
        if value is not None
    }
    return AccountState(
        email, account_id, fingerprint, outcome, error_code, bool(in_sheet), remembered
    )
