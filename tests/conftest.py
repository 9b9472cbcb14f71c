"""Shared fixtures: the real peers of the preflight tests (started once per session) and the
audit that proves no test reaches beyond loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.peers.audit import NetworkAudit
from tests.support.peers.dovecot import dovecot_missing
from tests.support.peers.world import World, start_world

NETGUARD = Path(__file__).parent / "support" / "peers" / "netguard"
REPO = Path(__file__).parent.parent

# The budget of the property tests (tests/jobs/test_property.py: a few seconds an example). A
# developer's run keeps to a minute or two; CI (.ci/run sets HYPOTHESIS_PROFILE=ci) runs
# hundreds, printing the blob that reproduces a failure.
settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def peers() -> Iterator[World]:
    """DNS, SMTP, refused/blackholed/silent ports, and Dovecot when it is installed."""
    world = start_world()
    try:
        yield world
    finally:
        world.stop()


@pytest.fixture
def world(peers: World) -> World:
    """The peers, for a test that needs Dovecot too: skipped (with why) where it is missing."""
    if peers.dovecot is None:
        pytest.skip(dovecot_missing() or "dovecot did not start")
    return peers


@pytest.fixture
def loopback_only() -> Iterator[NetworkAudit]:
    """Fail the test if this process looked up a name or connected anywhere but loopback."""
    audit = NetworkAudit.shared()
    audit.leaks.clear()
    audit.active = True
    try:
        yield audit
    finally:
        audit.active = False
    assert audit.leaks == [], f"network use outside loopback: {audit.leaks}"


@pytest.fixture
def guarded_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Child processes started by the test refuse and log any network use beyond loopback."""
    log = tmp_path / "netguard.log"
    log.touch()
    monkeypatch.setenv("PYTHONPATH", f"{NETGUARD}:{REPO}")
    monkeypatch.setenv("NETGUARD_LOG", str(log))
    yield log
    assert log.read_text() == "", f"a child process reached beyond loopback: {log.read_text()}"


def guard_was_on(log: Path) -> int:
    """How many child processes ran with the guard (0 would make the proof vacuous)."""
    marker = Path(f"{log}.loaded")
    return len(marker.read_text().split()) if marker.exists() else 0
