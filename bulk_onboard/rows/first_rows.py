"""The first row of each email over a sheet of any length, in about 20 bytes per email.

`validate` screens a million-row sheet chunk by chunk and keeps no journal: this is what tells it
that row 900,000 repeats row 12's email. A dict of every email would take more than 100 MB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

RECENT_EMAILS = 50_000  # emails kept as text before they are folded into digests
DIGEST_BYTES = 16


def email_digest(email: str) -> bytes:
    """16 bytes standing for an email: the first 8 are its key, the last 8 its check."""
    return hashlib.blake2b(email.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class FirstRows:
    """The latest emails are kept as they are; each `recent` of them are then folded into a
    sorted array of 64-bit keys, each with a 64-bit check and its row (never merged, so no copy
    of it all is ever made).

    A key found there stands for the same email only if the check matches too. Two emails that
    share a key are told apart by their checks, which agree by chance once in 2^64: over a
    million emails, a false duplicate is rarer than 1 in 10^20. An email whose key another folded
    email already holds is kept as text, so each folded key stands for one email.
    """

    def __init__(
        self,
        *,
        digest: Callable[[str], bytes] = email_digest,
        recent: int = RECENT_EMAILS,
    ) -> None:
        self._digest = digest
        self._recent_max = recent
        self._recent: dict[str, int] = {}
        self._collided: dict[str, int] = {}
        # (sorted keys, their checks, their rows)
        self._folded: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def claim(self, first_rows: Sequence[tuple[str, int]]) -> dict[str, int]:
        """Note the row of each email (distinct emails) that has none yet.

        Returns the row noted earlier for each email that already had one.
        """
        earlier: dict[str, int] = {}
        unseen: list[str] = []
        for email, _ in first_rows:
            row = self._recent.get(email)
            if row is None:
                row = self._collided.get(email)
            if row is None:
                unseen.append(email)
            else:
                earlier[email] = row
        if unseen and self._folded:
            keys, checks = self._digests(unseen)
            rows = self._rows_of(keys, checks)
            earlier.update({unseen[i]: int(rows[i]) for i in np.flatnonzero(rows >= 0)})
        for email, row in first_rows:
            if email not in earlier:
                self._recent[email] = row
        if len(self._recent) >= self._recent_max:
            self._fold()
        return earlier

    def _digests(self, emails: list[str]) -> tuple[np.ndarray, np.ndarray]:
        both = np.frombuffer(b"".join(map(self._digest, emails)), dtype=np.int64)
        return both[0::2].copy(), both[1::2].copy()

    def _rows_of(self, keys: np.ndarray, checks: np.ndarray | None) -> np.ndarray:
        """The row folded under each key (whose check matches, when given), or -1."""
        rows = np.full(len(keys), -1, dtype=np.int64)
        for folded_keys, folded_checks, folded_rows in self._folded:
            at = np.minimum(np.searchsorted(folded_keys, keys), len(folded_keys) - 1)
            hit = folded_keys[at] == keys
            if checks is not None:
                hit &= folded_checks[at] == checks
            rows[hit] = folded_rows[at[hit]]
        return rows

    def _fold(self) -> None:
        emails = list(self._recent)
        rows = np.fromiter(self._recent.values(), dtype=np.int32, count=len(emails))
        keys, checks = self._digests(emails)
        # A key folded before, or twice in this batch, belongs to another email too: keep such
        # emails as text, so that each folded key stands for exactly one email.
        _, first, counts = np.unique(keys, return_index=True, return_counts=True)
        keep = np.zeros(len(emails), dtype=bool)
        keep[first[counts == 1]] = True
        keep &= self._rows_of(keys, None) < 0
        for i in np.flatnonzero(~keep):
            self._collided[emails[i]] = int(rows[i])
        if keep.any():
            order = np.argsort(keys[keep])
            self._folded.append((keys[keep][order], checks[keep][order], rows[keep][order]))
        self._recent.clear()
