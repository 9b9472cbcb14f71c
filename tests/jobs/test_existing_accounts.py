"""`run` against mailboxes MailReach already has: ids from the listing, not from upserting.

Each behaviour is run both ways, against a sandbox that updates an existing email sent without
`id` (upsert) and one that refuses it with 422 (MailReach documents `id` for updates and says
nothing of matching by email): the outcome must not depend on which the real API does.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import (
    assert_conservation,
    assert_no_secret,
    data_rows,
    run_cli,
    unique_mailboxes,
    write_mailboxes,
)
from tests.support.recording_proxy import recording_proxy
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress"]
ROWS = 8
KNOBS = {"upsert": (), "refuses_existing_emails": ("--no-upsert",)}


@pytest.fixture(params=list(KNOBS))
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    with sandbox_process(*KNOBS[request.param]) as box:
        yield box


def post(box: SandboxProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        box.url + path,
        data=json.dumps(body).encode(),
        headers={"X-Api-Key": SANDBOX_KEY, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        found: dict[str, Any] = json.load(answer)
    return found


def existing(box: SandboxProcess, emails: list[str]) -> dict[str, int]:
    """Make accounts for `emails` behind the tool's back; their ids by email."""
    ids = {}
    for email in emails:
        body = {
            "email": email,
            "first_name": "Had",
            "last_name": "One",
            "provider": "custom",
            "imap_server": "imap.fleet.test",
            "smtp_server": "smtp.fleet.test",
            "password": "pw-made-by-hand",
        }
        ids[email] = post(box, "/v1/imap_auth", body)["id"]
    return ids


def by_email(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["email"]: row for row in rows}


@pytest.fixture
def sheet(tmp_path: Path) -> tuple[Path, list[str], set[str]]:
    boxes = unique_mailboxes(ROWS)
    path = tmp_path / "in.csv"
    passwords = write_mailboxes(path, boxes)
    return path, [box.email for box in boxes], passwords


def test_existing_mailboxes_are_sent_with_their_id_and_only_new_ones_are_created(
    sandbox: SandboxProcess, sheet: tuple[Path, list[str], set[str]], tmp_path: Path
) -> None:
    path, emails, passwords = sheet
    had = existing(sandbox, emails[::2])
    with recording_proxy(sandbox.url) as proxy:
        result = run_cli(["run", str(path), *FAST], tmp_path / "out", url=proxy.url)
    assert result.code == 0, result.stderr
    rows = by_email(result.report("succeeded.csv"))
    assert set(rows) == set(emails)
    assert {e for e, r in rows.items() if r["action"] == "created"} == set(emails[1::2])
    assert {e for e, r in rows.items() if r["action"] == "updated"} == set(had)
    sent = {body["email"]: body for body in proxy.imap_auth_bodies()}
    assert len(proxy.imap_auth_bodies()) == ROWS  # one request per row: nothing was refused
    assert {e: sent[e].get("id") for e in had} == had
    assert all("id" not in sent[e] for e in emails[1::2])
    assert {e: int(rows[e]["account_id"]) for e in had} == had
    assert sandbox.accounts() == ROWS
    listing = [p for p in proxy.paths() if "/v1/accounts" in p]
    assert listing == ["/api/v1/accounts?page=0", "/api/v1/accounts?page=1"]
    assert proxy.paths().index(listing[-1]) < proxy.paths().index("/api/v1/imap_auth")
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["actions"] == {"created": ROWS // 2, "updated": ROWS // 2}
    assert summary["listing"] == {"accounts": ROWS // 2, "pages": 2, "requests": 2}
    assert_no_secret(result, passwords | {SANDBOX_KEY})


def test_a_create_whose_answer_was_lost_is_looked_up_and_sent_again_with_its_id(
    sandbox: SandboxProcess, sheet: tuple[Path, list[str], set[str]], tmp_path: Path
) -> None:
    path, emails, passwords = sheet
    with recording_proxy(sandbox.url, lose_first_connect=True) as proxy:
        result = run_cli(["run", str(path), *FAST], tmp_path / "out", url=proxy.url)
    assert result.code == 0, result.stderr
    rows = by_email(result.report("succeeded.csv"))
    assert set(rows) == set(emails)
    assert {r["action"] for r in rows.values()} == {"created"}
    assert {r["attempts"] for r in rows.values()} == {"2"}
    assert sandbox.accounts() == ROWS  # no duplicate, and no false failure
    tries: dict[str, list[dict[str, Any]]] = {}
    for body in proxy.imap_auth_bodies():
        tries.setdefault(body["email"], []).append(body)
    for email in emails:
        first, again = tries[email]
        assert "id" not in first
        assert again["id"] == int(rows[email]["account_id"])  # looked up before it was resent
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["lookups"]["passes"] >= 1
    assert_no_secret(result, passwords | {SANDBOX_KEY})


def test_without_the_lookup_an_existing_email_is_still_updated_not_failed(
    sandbox: SandboxProcess, sheet: tuple[Path, list[str], set[str]], tmp_path: Path
) -> None:
    path, emails, _ = sheet
    had = existing(sandbox, emails[:3])
    with recording_proxy(sandbox.url) as proxy:
        result = run_cli(["run", str(path), *FAST, "--no-lookup"], tmp_path / "out", url=proxy.url)
    assert result.code == 0, result.stderr
    rows = by_email(result.report("succeeded.csv"))
    assert {e: int(rows[e]["account_id"]) for e in had} == had
    assert sandbox.accounts() == ROWS
    first = proxy.paths().index("/api/v1/imap_auth")
    assert not any("/v1/accounts" in p for p in proxy.paths()[:first])  # no listing first
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["listing"] is None
    # An upserting sandbox updates by email: the account's age tells it was no creation, once
    # it is older than the clock margin. A refusing one answers 422: its id is looked up.
    refusing = any(r["status"] == 422 for r in sandbox.imap_auth())
    existing_action = "updated" if refusing else "created"
    assert {e: r["action"] for e, r in rows.items()} == {
        e: existing_action if e in had else "created" for e in emails
    }


def test_an_upserted_account_older_than_the_run_is_reported_updated(tmp_path: Path) -> None:
    boxes = unique_mailboxes(2)
    path = tmp_path / "in.csv"
    write_mailboxes(path, boxes)
    with sandbox_process() as box:
        (old,) = existing(box, [boxes[0].email]).values()
        post(box, f"/_sandbox/accounts/{old}/drift", {"created_at": "2024-01-05T10:00:00.000Z"})
        result = run_cli(["run", str(path), *FAST, "--no-lookup"], tmp_path / "out", url=box.url)
    assert result.code == 0, result.stderr
    rows = by_email(result.report("succeeded.csv"))
    assert rows[boxes[0].email]["action"] == "updated"
    assert rows[boxes[1].email]["action"] == "created"


def test_a_dry_run_tests_every_row_and_claims_no_account(
    sandbox: SandboxProcess, sheet: tuple[Path, list[str], set[str]], tmp_path: Path
) -> None:
    path, emails, _ = sheet
    had = existing(sandbox, emails[:2])
    result = run_cli(["run", str(path), *FAST, "--dry-run"], tmp_path / "out", url=sandbox.url)
    assert result.code == 0, result.stderr
    rows = result.report("succeeded.csv")
    assert {r["action"] for r in rows} == {"tested"}
    assert {r["account_id"] for r in rows} == {""}
    assert sandbox.accounts() == len(had)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert (summary["dry_run"], summary["actions"]) == (True, {"tested": ROWS})
    assert_conservation(result, data_rows(path))
