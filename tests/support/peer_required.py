"""A test that needs a Debian peer (Dovecot, Chromium) skips where it is missing, except in CI.

On a developer's machine a missing `dovecot` or `chromium` skips those tests, saying how to
install it. `.ci/run` installs both and sets REQUIRE_PEERS_ENV: there a missing peer fails the
test instead, so a CI run can never pass with the IMAP or browser tests silently skipped.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_PEERS_ENV = "BULK_ONBOARD_REQUIRE_PEERS"


def peers_required() -> bool:
    return os.environ.get(REQUIRE_PEERS_ENV, "") not in ("", "0")


def peer_missing(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it where every peer is required (CI)."""
    if peers_required():
        pytest.fail(f"{reason}; {REQUIRE_PEERS_ENV} is set, so this test may not skip")
    pytest.skip(reason)
