"""The sandbox's accounts: one per email, held in memory, optionally written through to SQLite.

Every method is synchronous and the server runs one event loop, so a lookup and the insert that
follows it can't interleave with another request: that, not a lock, is why concurrent connects
of one email still make one account. The SQLite file is written through on every change (WAL,
no fsync per commit: sub-millisecond) and read back whole at start; one server per file.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bulk_onboard.sandbox.bodies import ImapAuthBody
from bulk_onboard.sandbox.profile import Account, domain_facts, new_account

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
)
"""


class AccountError(ValueError):
    """A change the store refuses; `status` is the HTTP answer it calls for."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def utc_now() -> str:
    """Timestamps as the API writes them: ISO 8601, UTC, milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _private_file(path: str) -> None:
    """Create `path` 0600 if it is missing: SQLite gives its -wal and -shm files the database
    file's mode, and the accounts are the user's own."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))


TAKEN = "Email has already been taken"  # what a Rails uniqueness check answers


class AccountStore:
    """Accounts by id, with an email index; ids are handed out in increasing order, never reused.

    With `upsert` (the default) an `imap_auth` without `id` for an email that has an account
    updates it; without, it is refused with 422, as the real API may do: it documents `id` as
    the way to update and says nothing of matching by email.
    """

    __slots__ = ("_by_email", "_by_id", "_db", "_domain_ids", "_ids", "_upsert", "tags")

    def __init__(
        self,
        db_path: str | None = None,
        *,
        upsert: bool = True,
        tags: Mapping[int, str] | None = None,
    ) -> None:
        self.tags: dict[int, str] = dict(tags or {})  # the tags that exist, by id
        self._by_id: dict[int, Account] = {}
        self._by_email: dict[str, int] = {}
        self._ids: list[int] = []  # sorted, so a page is a slice
        self._domain_ids: dict[str, int] = {}  # one domain object id per domain name
        self._upsert = upsert
        self._db: sqlite3.Connection | None = None
        if db_path is not None:
            _private_file(db_path)
            # An app may be built in one thread and served in another; one thread at a time uses it.
            self._db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            for (data,) in self._db.execute("SELECT data FROM accounts ORDER BY id"):
                self._index(json.loads(data))

    def __len__(self) -> int:
        return len(self._by_id)

    def close(self) -> None:
        """Close the SQLite file, if any."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def get(self, account_id: int) -> Account | None:
        """The account with this id, if any."""
        return self._by_id.get(account_id)

    def page(self, number: int, size: int) -> list[Account]:
        """Page `number` (0 first) of `size` accounts in id order; empty past the end."""
        ids = self._ids[number * size : (number + 1) * size]
        return [self._by_id[account_id] for account_id in ids]

    def match(self, body: ImapAuthBody) -> Account | None:
        """The account `body` would update: by `id` if given, else by email in any case.

        Without `upsert`, a body with no `id` for an email that has an account is refused
        (422), unless it is a `test: true` one, which changes nothing.
        """
        email = body.email.lower()
        if body.id is None:
            found = self._by_email.get(email)
            if found is not None and not self._upsert and not body.test:
                raise AccountError(422, TAKEN)
            return None if found is None else self._by_id[found]
        existing = self._by_id.get(body.id)
        if existing is None:
            raise AccountError(404, "Account not found")
        if existing["email"] != email:
            raise AccountError(400, "id belongs to an account with a different email")
        return existing

    def connect(
        self,
        body: ImapAuthBody,
        existing: Account | None,
        *,
        dry_run: bool,
        domain: Mapping[str, Any] | None = None,
    ) -> Account:
        """Create the account, or update `existing` (from `match`) with the body's fields.

        `domain` (from `--verify`) replaces the made-up DNS facts with real ones.

        With `dry_run` nothing is stored and a copy is returned; a new account's id is None.
        The caller must not await between `match` and `connect`: that is what keeps one
        account per email under concurrent requests.
        """
        now = utc_now()
        if existing is None:
            email = body.email.lower()
            name = email.rpartition("@")[2]
            facts = domain_facts(name, body.provider, self._domain_id(name), now)
            account = new_account(email, body.provider, body.smtp_server, now, facts)
        else:
            account = copy.deepcopy(existing) if dry_run else existing
        account["first_name"] = body.first_name
        account["last_name"] = body.last_name
        account["provider"] = body.provider
        account["imap_issue"] = bool(body.imap_issue)
        # A spam-checker-only account is connected for spam tests, not warmed.
        account["spamchecker_enabled"] = bool(body.spamchecker_only)
        account["warming_enabled"] = not body.spamchecker_only
        if domain is not None:
            account["domain"] = {**account["domain"], **domain}
        if dry_run:
            return account
        if existing is None:
            account["id"] = self._ids[-1] + 1 if self._ids else 1
            self._index(account)
        self._persist(account)
        return account

    def update(self, account_id: int, fields: Mapping[str, object]) -> Account:
        """Overwrite the given top-level fields (already validated) of an account."""
        account = self._by_id.get(account_id)
        if account is None:
            raise AccountError(404, "Account not found")
        account.update(fields)
        self._persist(account)
        return account

    def link_oauth(self, email: str, provider: str) -> Account:
        """An account linked through an email workspace (OAuth: no password): made if the
        email has none, else given the workspace's token."""
        found = self._by_email.get(email)
        if found is not None:
            account = self._by_id[found]
        else:
            now = utc_now()
            name = email.rpartition("@")[2]
            facts = domain_facts(name, provider, self._domain_id(name), now)
            account = new_account(email, provider, None, now, facts)
            local = email.partition("@")[0].split(".")
            account["first_name"] = local[0].capitalize()
            account["last_name"] = local[-1].capitalize()
            account["id"] = self._ids[-1] + 1 if self._ids else 1
            self._index(account)
        account["provider"] = provider
        account["has_refresh_token"] = True
        self._persist(account)
        return account

    def link_tag(self, tag_id: int, account_id: int, *, linked: bool = True) -> dict[str, Any]:
        """Attach (or detach) an existing tag to an account; the tag `{id, name}`."""
        name = self.tags.get(tag_id)
        if name is None:
            raise AccountError(404, "Tag not found")
        account = self._by_id.get(account_id)
        if account is None:
            raise AccountError(404, "Account not found")
        tag = {"id": tag_id, "name": name}
        others = [t for t in account.get("tags") or [] if t.get("id") != tag_id]
        account["tags"] = [*others, tag] if linked else others
        self._persist(account)
        return tag

    def drift(self, account_id: int, fields: Mapping[str, object]) -> Account:
        """Overwrite any existing fields, `domain.x` reaching into the domain: tests' stand-in
        for what MailReach changes on its own (scores move, DMARC breaks, accounts pause)."""
        account = self._by_id.get(account_id)
        if account is None:
            raise AccountError(404, "Account not found")
        changed = copy.deepcopy(account)
        for key, value in fields.items():
            target, name = changed, key
            if "." in key:
                parent, _, name = key.partition(".")
                nested = changed.get(parent)
                if not isinstance(nested, dict):
                    raise AccountError(400, f"{key} is not an account field")
                target = nested
            if name not in target or name in ("id", "email"):
                raise AccountError(400, f"{key} is not an account field that can drift")
            target[name] = value
        account.clear()
        account.update(changed)
        self._persist(account)
        return account

    def _domain_id(self, name: str) -> int:
        found = self._domain_ids.get(name)
        if found is None:
            found = self._domain_ids[name] = max(self._domain_ids.values(), default=0) + 1
        return found

    def _index(self, account: Account) -> None:
        account_id: int = account["id"]
        self._by_id[account_id] = account
        self._by_email[account["email"]] = account_id
        self._ids.append(account_id)
        domain = account.get("domain")
        if isinstance(domain, dict) and isinstance(domain.get("id"), int):
            self._domain_ids.setdefault(str(domain.get("domain")), domain["id"])

    def _persist(self, account: Account) -> None:
        if self._db is not None:
            self._db.execute(
                "INSERT INTO accounts (id, email, data) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                (account["id"], account["email"], json.dumps(account)),
            )
