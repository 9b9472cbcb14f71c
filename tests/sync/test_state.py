"""The sync's local pieces: the SQLite state, the keyed fingerprint and the lock."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bulk_onboard.base.changes import Change
from bulk_onboard.errors import ExitCode, UsageError
from bulk_onboard.rows.request import ConnectRequest
from bulk_onboard.sync.fingerprint import Fingerprinter, key_path_for, load_or_create_key
from bulk_onboard.sync.lock import StateLock, SyncLocked, lock_path_for
from bulk_onboard.sync.state import MIGRATIONS, AccountState, StateError, StateStore

PASSWORD = "hunter2-but-longer"


def request(password: str = PASSWORD, **extra: object) -> ConnectRequest:
    return ConnectRequest.model_validate(
        {
            "email": "ann@example.test",
            "first_name": "Ann",
            "last_name": "Lee",
            "provider": "custom",
            "imap_server": "imap.example.test",
            "imap_server_port": 993,
            "imap_server_password": password,
            "smtp_server": "smtp.example.test",
            "smtp_server_port": 587,
            "smtp_server_password": password,
            **extra,
        }
    )


# The state store.


def test_a_new_state_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    StateStore(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_accounts_round_trip_with_their_remembered_fields(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = StateStore(path)
    remembered = {"score": 87, "dmarc_valid": False, "alive": True}
    store.put(AccountState("ann@example.test", 42, "v1:ab", "succeeded", None, True, remembered))
    store.close()
    loaded = StateStore(path).load()
    assert loaded == {
        "ann@example.test": AccountState(
            "ann@example.test", 42, "v1:ab", "succeeded", None, True, remembered
        )
    }


def test_opening_an_older_schema_migrates_it_forward_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = StateStore(path)
    store.put(AccountState("ann@example.test", 7))
    store.close()
    newer = (*MIGRATIONS, "ALTER TABLE accounts ADD COLUMN note TEXT;")
    migrated = StateStore(path, migrations=newer)
    assert migrated.schema_version == len(MIGRATIONS) + 1
    assert migrated.load()["ann@example.test"].account_id == 7
    migrated.close()


def test_a_state_written_by_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="newer bulk-onboard"):
        StateStore(path)


def test_a_file_that_is_not_a_state_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(StateError, match="move it away"):
        StateStore(path)


def test_changes_not_yet_reported_survive_a_reopen_until_cleared(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = StateStore(path)
    store.add_changes([Change("ann@example.test", "dmarc_valid", True, False)])
    store.close()
    store = StateStore(path)
    assert store.pending_changes() == [Change("ann@example.test", "dmarc_valid", True, False)]
    store.clear_changes()
    assert store.pending_changes() == []
    store.close()


def test_each_run_is_recorded_in_the_runs_table(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    store.begin_run("r1", "2026-01-01T00:00:00+00:00", "in.csv", "abc")
    store.begin_run("r2", "2026-01-02T00:00:00+00:00", "in.csv", "abc")
    store.finish_run("r1", "2026-01-01T00:01:00+00:00", 0, {"skipped": 3})
    runs = store.runs()
    store.close()
    assert [(r["run_id"], r["exit_code"]) for r in runs] == [("r1", 0), ("r2", None)]
    assert json.loads(runs[0]["counts"]) == {"skipped": 3}


# The keyed fingerprint.


def test_the_fingerprint_key_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = key_path_for(tmp_path / "state.sqlite")
    key = load_or_create_key(path)
    assert path.name == "state.sqlite.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key) == 32
    assert load_or_create_key(path) == key


def test_a_fingerprint_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.key"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        load_or_create_key(path)


def test_a_damaged_fingerprint_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.key"
    path.write_text("not hex at all\n")
    os.chmod(path, 0o600)
    with pytest.raises(UsageError, match="damaged"):
        load_or_create_key(path)


def test_the_same_request_has_the_same_fingerprint() -> None:
    fingerprinter = Fingerprinter(b"k" * 32)
    assert fingerprinter.of(request()) == fingerprinter.of(request())


def test_a_changed_password_changes_the_fingerprint() -> None:
    fingerprinter = Fingerprinter(b"k" * 32)
    assert fingerprinter.of(request()) != fingerprinter.of(request("another-password"))


def test_another_key_gives_another_fingerprint() -> None:
    assert Fingerprinter(b"a" * 32).of(request()) != Fingerprinter(b"b" * 32).of(request())


def test_a_dry_run_does_not_change_the_fingerprint() -> None:
    fingerprinter = Fingerprinter(b"k" * 32)
    assert fingerprinter.of(request(test=True)) == fingerprinter.of(request())


def test_the_fingerprint_is_not_a_plain_hash_and_holds_no_password() -> None:
    fingerprint = Fingerprinter(b"k" * 32).of(request())
    body = json.dumps(request().to_body(), sort_keys=True, separators=(",", ":"))
    plain = {hashlib.sha256(text.encode()).hexdigest() for text in (body, PASSWORD)}
    assert fingerprint.removeprefix("v1:") not in plain
    assert PASSWORD not in fingerprint


# The lock.


def test_a_second_holder_of_the_lock_is_refused_at_once_with_exit_75(tmp_path: Path) -> None:
    path = lock_path_for(tmp_path / "state.sqlite")
    with StateLock(path), pytest.raises(SyncLocked) as refused:
        StateLock(path).__enter__()
    assert refused.value.exit_code == ExitCode.LOCKED
    assert str(os.getpid()) in str(refused.value)


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    path = tmp_path / "state.lock"
    with StateLock(path):
        pass
    with StateLock(path):
        pass


def test_a_lock_whose_holder_was_killed_is_free(tmp_path: Path) -> None:
    path = tmp_path / "state.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from bulk_onboard.sync.lock import StateLock\n"
            "with StateLock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(SyncLocked):
        StateLock(path).__enter__()
    holder.kill()
    holder.wait()
    started = time.monotonic()
    with StateLock(path):
        assert time.monotonic() - started < 1
