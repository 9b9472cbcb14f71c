"""Shared fixtures: the real peers of the preflight tests (started once per session) and the
audit that proves no test reaches beyond loopback."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.peer_required import peer_missing
from tests.support.peers.audit import NetworkAudit
from tests.support.peers.dovecot import dovecot_missing
from tests.support.peers.world import World, start_world

NETGUARD = Path(__file__).parent / "support" / "peers" / "netguard"
REPO = Path(__file__).parent.parent
# The longest modules, longest first. scripts/check hands whole modules to its workers
# (pytest-xdist --dist loadscope) in collection order: started first, these end before the
# short ones run out, so no worker waits idle on another's minute-long module at the end.
SLOWEST_FIRST = (
    "tests/test_bench_smoke.py",
    "tests/jobs/test_property.py",
    "tests/jobs/test_run.py",
    "tests/jobs/test_resume.py",
    "tests/sync/test_sync.py",
    "tests/sheet/test_bad_input.py",
    "tests/engine/test_faults.py",
    "tests/jobs/test_naughty_strings.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: place for place, module in enumerate(SLOWEST_FIRST)}
    # Stable: each module's tests keep their order.
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


# The budget of the property tests (tests/jobs/test_property.py: about a second an example, a
# real command each). A developer's run keeps to half a minute; CI (.ci/run sets
# HYPOTHESIS_PROFILE=ci) runs four times as many, printing the blob that reproduces a failure,
# within the gate's 8 minutes on 2 cores (200 examples took about 800 s of one worker when
# a command cost 4 s; 80 took 98 s at load 4.5).
settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("ci", max_examples=80, deadline=None, print_blob=True)
# By hand or nightly, when the gate's time is not the limit: HYPOTHESIS_PROFILE=deep.
settings.register_profile("deep", max_examples=500, deadline=None, print_blob=True)
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
    """The peers, for a test that needs Dovecot too: skipped (with why) where it is missing,
    failed instead in CI (tests/support/peer_required.py)."""
    if peers.dovecot is None:
        peer_missing(dovecot_missing() or "dovecot did not start")
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


@pytest.fixture(autouse=True)
def _signal_handlers_restored() -> Iterator[None]:
    """Each test leaves SIGINT and SIGTERM as it found them. A job run in-process on the main
    thread ignores both once its loop ends (engine/stopping.py), and a child started later by
    the same worker would inherit that: a SIGINT test then waits in vain for it to exit."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        if handler is not None:
            signal.signal(signum, handler)
