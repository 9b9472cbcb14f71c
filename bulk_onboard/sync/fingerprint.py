"""Keyed fingerprints of connect requests: how `sync` tells a changed row from an unchanged one.

A fingerprint is HMAC-SHA256 over the canonical JSON of the request, under a random 256-bit key
kept in a 0600 file beside the state. A plain hash would not do: mailbox passwords are often
short or reused, so a hash of a request can be brute-forced or matched against a list offline;
with a secret key it is useless to whoever reads the state file alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import stat
from pathlib import Path

from bulk_onboard.base.atomic import write_text
from bulk_onboard.errors import UsageError
from bulk_onboard.rows.normalise import NormalisedRow
from bulk_onboard.rows.request import ConnectRequest

KEY_BYTES = 32
KEY_SUFFIX = ".key"
# Bump when the canonical form changes: old fingerprints then count as "changed" once.
FINGERPRINT_VERSION = "v1"
# Body fields that say how to send, not what the account is: they never make a row "changed".
_NOT_FINGERPRINTED = ("test",)
_KEY_CHECK_LABEL = b"bulk-onboard fingerprint key check"


def key_path_for(state_path: Path) -> Path:
    """The key file beside a state file: `STATE.key`."""
    return state_path.with_name(state_path.name + KEY_SUFFIX)


def load_or_create_key(path: Path) -> bytes:
    """The fingerprint key in `path`, creating it (0600) if missing; refused if others can read it.

    Call it while holding the state lock, so two runs never create two keys.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        key = secrets.token_bytes(KEY_BYTES)
        write_text(path, key.hex() + "\n")
        return key
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"The fingerprint key {path} is readable by other users: run `chmod 600 {path}`."
        )
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise UsageError(
            f"The fingerprint key {path} is damaged: move it away (every row then counts as "
            "changed once) and run again."
        )
    return key


def connect_part(fingerprint: str) -> str:
    """The part of a row's fingerprint that only the connect request decides."""
    return fingerprint.partition("+")[0]


class Fingerprinter:
    """`of(request)`: a keyed fingerprint of what would be sent, never the request itself."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, request: ConnectRequest) -> str:
        """`v1:` + hex HMAC-SHA256 of the request's canonical JSON (sorted keys, no spaces)."""
        body = request.to_body()  # holds passwords: only ever fed to the HMAC below
        for name in _NOT_FINGERPRINTED:
            body.pop(name, None)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hmac.new(self._key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{FINGERPRINT_VERSION}:{digest}"

    def of_row(self, item: NormalisedRow) -> str:
        """The row's fingerprint: its request's, then `+` and one of its account settings and
        tags when it has any. A row whose settings changed and connect did not is told apart
        by the part before `+` (`connect_part`): `sync` sends it the update alone."""
        assert item.request is not None
        connect = self.of(item.request)
        if not item.settings and not item.tags:
            return connect  # as before settings existed: a state from then still matches
        steps = {"settings": dict(item.settings), "tags": [str(tag) for tag in item.tags]}
        canonical = json.dumps(steps, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hmac.new(self._key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{connect}+{digest[:32]}"

    def key_check(self) -> str:
        """A value stored with the state, telling whether a key is the one that wrote it."""
        return hmac.new(self._key, _KEY_CHECK_LABEL, hashlib.sha256).hexdigest()[:16]
