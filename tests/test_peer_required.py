"""CI can't pass with a peer test skipped: the switch .ci/run sets makes those skips fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.peer_required import REQUIRE_PEERS_ENV, peer_missing

REPO = Path(__file__).parent.parent


def test_a_missing_peer_skips_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_PEERS_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="dovecot is not installed"):
        peer_missing("dovecot is not installed")


def test_a_missing_peer_fails_where_peers_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_PEERS_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_PEERS_ENV} is set"):
        peer_missing("no browser test: /usr/bin/chromium not installed")


def test_ci_requires_every_peer() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert f"export {REQUIRE_PEERS_ENV}=1" in ci.splitlines()
