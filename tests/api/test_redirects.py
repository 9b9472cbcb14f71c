"""Redirects are never followed: the key and the passwords stay with the --api-url server.

A real second server on loopback keeps whatever reaches it, so each test sees for itself whether
the key or a body would have left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import assert_conservation, data_rows, run_cli
from tests.support.http_peers import Peer, http_peer, recording, redirecting
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

SAMPLE = Path(__file__).parents[2] / "samples" / "mailboxes.csv"
FAST = ["--rate", "0", "--backoff", "0.01", "--max-attempts", "2", "--no-progress"]


@pytest.fixture
def elsewhere() -> Iterator[Peer]:
    """The server a redirect points at: it must never hear from the tool."""
    with http_peer(recording()) as peer:
        yield peer


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process() as box:
        yield box


def assert_nothing_reached(peer: Peer) -> None:
    assert peer.received == [], "a request followed the redirect"


def test_a_redirected_ping_stops_the_run_before_any_row_is_sent(
    elsewhere: Peer, tmp_path: Path
) -> None:
    with http_peer(redirecting(elsewhere.url + "/moved")) as api:
        result = run_cli(["run", str(SAMPLE), *FAST], tmp_path, url=api.url + "/api")
        sent = [r.path for r in api.received]
    assert result.code == 69, result.stderr
    assert_nothing_reached(elsewhere)
    assert sent == ["/api/v1/ping"]  # the ping, once: no password went anywhere
    assert f"{elsewhere.url}/moved/api/v1/ping" in result.stdout  # the summary's "stopped"
    assert "--api-url" in result.stdout
    assert_conservation(result, data_rows(SAMPLE))
    assert {row["stage"] for row in result.report("failed.csv")} <= {"duplicate", "validation"}
    assert len(result.report("unprocessed.csv")) == 10  # every row the sheet lets through


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_row_fails_naming_where_it_was_sent_without_its_credentials(
    elsewhere: Peer, sandbox: SandboxProcess, tmp_path: Path, status: int
) -> None:
    target = elsewhere.url.replace("http://", "http://robot:Loc-Secret-77@")
    origin = sandbox.url.removesuffix("/api")
    behaviour = redirecting(target, status, only="/v1/imap_auth", upstream=origin)
    with http_peer(behaviour) as api:
        result = run_cli(["run", str(SAMPLE), *FAST], tmp_path, url=api.url + "/api")
    assert result.code == 1, result.stderr
    assert_nothing_reached(elsewhere)
    assert sandbox.imap_auth() == []
    failed = result.report("failed.csv")
    redirected = [row for row in failed if row["error_code"] == "redirected"]
    assert redirected, failed
    for row in redirected:
        assert row["http_status"] == str(status)
        assert f"{elsewhere.url}/api/v1/imap_auth" in row["message"]
        assert "Loc-Secret-77" not in row["message"]
        assert row["hint"]
    assert_conservation(result, data_rows(SAMPLE))


def test_a_redirected_listing_stops_the_sync_before_any_row_is_sent(
    elsewhere: Peer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with http_peer(redirecting(elsewhere.url)) as api:
        result = run_cli(["sync", str(SAMPLE), "--out", str(out), *FAST], out, url=api.url + "/api")
        sent = {r.path.partition("?")[0] for r in api.received}
    assert result.code == 69, result.stderr
    assert_nothing_reached(elsewhere)
    assert sent == {"/api/v1/accounts"}
    assert elsewhere.url in result.stdout + result.stderr


def test_the_key_goes_only_to_the_api_url(elsewhere: Peer, tmp_path: Path) -> None:
    """The premise of the tests above: a server that answers is sent the key."""
    # --no-lookup: the peer answers anything with an empty body, not a listing.
    run = ["run", str(SAMPLE), "--no-lookup", *FAST]
    result = run_cli(run, tmp_path, url=elsewhere.url + "/api")
    assert result.code in (0, 1), result.stderr
    assert {r.headers.get("X-Api-Key") for r in elsewhere.received} == {SANDBOX_KEY}
