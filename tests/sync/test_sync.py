"""`bulk-onboard sync` end to end: the real command against the sandbox process over loopback."""

from __future__ import annotations

import json
import secrets
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import (
    Mailbox,
    Result,
    assert_conservation,
    assert_no_secret,
    data_rows,
    run_cli,
    start_cli,
    wait_until,
    write_mailboxes,
)
from tests.support.recording_proxy import recording_proxy
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    """One sandbox for the module: each test's mailboxes are on a domain of its own."""
    with sandbox_process() as box:
        yield box


def mailboxes(count: int) -> list[Mailbox]:
    """Fresh-domain mailboxes with fixed passwords: writing the sheet again changes nothing."""
    token = secrets.token_hex(4)
    return [Mailbox(f"user{i}@s{token}.test", f"pw-{token}-{i}-s3cret") for i in range(count)]


def domain_of(boxes: list[Mailbox]) -> str:
    return boxes[0].email.partition("@")[2]


def sync(sheet: Path, out: Path, url: str, *extra: str, key: str | None = SANDBOX_KEY) -> Result:
    return run_cli(["sync", str(sheet), "--out", str(out), *FAST, *extra], out, url=url, key=key)


def changes(result: Result) -> set[tuple[str, str, str, str]]:
    return {(r["email"], r["field"], r["before"], r["after"]) for r in result.report("changes.csv")}


def accounts_by_email(url: str, domain: str) -> dict[str, dict[str, object]]:
    """The sandbox's accounts on `domain`, read through the listing."""
    found: dict[str, dict[str, object]] = {}
    for page in range(1000):
        request = urllib.request.Request(
            f"{url}/v1/accounts?page={page}", headers={"X-Api-Key": SANDBOX_KEY}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            items = json.load(response)
        if not items:
            break
        found.update({str(a["email"]): a for a in items if str(a["email"]).endswith(domain)})
    return found


def drift(url: str, account_id: object, fields: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{url}/_sandbox/accounts/{account_id}/drift",
        data=json.dumps(fields).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def clear_log(url: str) -> None:
    with urllib.request.urlopen(
        urllib.request.Request(f"{url}/_sandbox/requests", method="DELETE"), timeout=10
    ):
        pass


def state_files(out: Path) -> list[Path]:
    return sorted(out.glob("sync-state.sqlite*"))


def test_first_sync_creates_an_account_for_every_row(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(6)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    result = sync(sheet, tmp_path / "out", sandbox.url)
    assert result.code == 0, result.stderr
    assert len(result.report("succeeded.csv")) == 6
    assert set(accounts_by_email(sandbox.url, domain_of(boxes))) == {b.email for b in boxes}
    assert_conservation(result, data_rows(sheet))


def test_rows_new_to_the_sheet_are_reported_in_changes_csv(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(4)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes[:3])
    sync(sheet, tmp_path / "out", sandbox.url)
    write_mailboxes(sheet, boxes)
    result = sync(sheet, tmp_path / "out", sandbox.url)
    assert result.code == 0, result.stderr
    assert changes(result) == {(boxes[3].email, "in_sheet", "false", "true")}


def test_an_immediate_second_sync_makes_no_imap_auth_call_and_skips_every_row(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, mailboxes(8))
    sync(sheet, tmp_path / "out", sandbox.url)
    clear_log(sandbox.url)
    result = sync(sheet, tmp_path / "out", sandbox.url)
    assert result.code == 0, result.stderr
    assert sandbox.imap_auth() == []
    skipped = result.report("skipped.csv")
    assert [int(r["row"]) for r in skipped] == data_rows(sheet)
    assert {r["reason"] for r in skipped} == {"unchanged"}
    assert result.report("changes.csv") == []


def test_one_changed_password_sends_exactly_one_imap_auth_carrying_the_account_id(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(5)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    sync(sheet, tmp_path / "out", sandbox.url)
    boxes[2] = Mailbox(boxes[2].email, "rotated-password-123")
    write_mailboxes(sheet, boxes)
    with recording_proxy(sandbox.url) as proxy:
        result = sync(sheet, tmp_path / "out", proxy.url)
    assert result.code == 0, result.stderr
    sent = proxy.imap_auth_bodies()
    assert [body["email"] for body in sent] == [boxes[2].email]
    assert sent[0]["id"] == accounts_by_email(sandbox.url, domain_of(boxes))[boxes[2].email]["id"]
    assert len(result.report("skipped.csv")) == 4


def test_a_lost_state_file_creates_no_duplicate_and_sends_the_listed_ids(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(5)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    out = tmp_path / "out"
    sync(sheet, out, sandbox.url)
    for path in state_files(out):
        path.unlink()
    with recording_proxy(sandbox.url) as proxy:
        result = sync(sheet, out, proxy.url)
    assert result.code == 0, result.stderr
    accounts = accounts_by_email(sandbox.url, domain_of(boxes))
    assert len(accounts) == 5
    ids = {email: account["id"] for email, account in accounts.items()}
    assert {body["email"]: body["id"] for body in proxy.imap_auth_bodies()} == ids


def test_a_lost_state_file_against_an_api_refusing_taken_emails_updates_every_account(
    tmp_path: Path,
) -> None:
    boxes = mailboxes(4)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    out = tmp_path / "out"
    with sandbox_process("--no-upsert") as box:
        first = sync(sheet, out, box.url)
        created = {r["action"] for r in first.report("succeeded.csv")}
        for path in state_files(out):
            path.unlink()
        again = sync(sheet, out, box.url)
        refused = [r for r in box.imap_auth() if r["status"] == 422]
        accounts = accounts_by_email(box.url, domain_of(boxes))
    assert (first.code, again.code) == (0, 0), again.stderr
    assert created == {"created"}
    assert {r["action"] for r in again.report("succeeded.csv")} == {"updated"}
    assert refused == []  # every existing account was sent with its listed id
    assert len(accounts) == 4


def test_a_row_removed_from_the_sheet_is_reported_in_changes_csv(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(4)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    sync(sheet, tmp_path / "out", sandbox.url)
    write_mailboxes(sheet, boxes[:2] + boxes[3:])
    result = sync(sheet, tmp_path / "out", sandbox.url)
    assert result.code == 0, result.stderr
    assert changes(result) == {(boxes[2].email, "in_sheet", "true", "false")}
    assert len(accounts_by_email(sandbox.url, domain_of(boxes))) == 4, "sync never deletes"


def test_a_drifted_score_and_dmarc_flag_are_reported_in_changes_csv(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(3)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    sync(sheet, tmp_path / "out", sandbox.url)
    account = accounts_by_email(sandbox.url, domain_of(boxes))[boxes[1].email]
    score = int(str(account["score"]))
    drift(sandbox.url, account["id"], {"score": score - 30, "domain.dmarc_valid": False})
    result = sync(sheet, tmp_path / "out", sandbox.url)
    assert result.code == 0, result.stderr
    assert changes(result) == {
        (boxes[1].email, "score", str(score), str(score - 30)),
        (boxes[1].email, "dmarc_valid", "true", "false"),
    }


def test_a_score_move_within_the_delta_is_not_reported(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(2)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    sync(sheet, tmp_path / "out", sandbox.url)
    account = accounts_by_email(sandbox.url, domain_of(boxes))[boxes[0].email]
    drift(sandbox.url, account["id"], {"score": int(str(account["score"])) - 8})
    result = sync(sheet, tmp_path / "out", sandbox.url, "--score-delta", "10")
    assert result.code == 0, result.stderr
    assert changes(result) == set()


def test_a_second_concurrent_sync_exits_75_at_once(tmp_path: Path) -> None:
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, mailboxes(40))
    out = tmp_path / "out"
    with sandbox_process("--latency-ms", "300") as box:
        first = start_cli(["sync", str(sheet), *FAST, "--concurrency", "1"], out, url=box.url)
        wait_until(
            "the first sync to take the lock",
            lambda: (out / "latest").exists() or first.proc.poll() is not None,
        )
        second = sync(sheet, out, box.url, "--log-format", "json")
        still_running = first.proc.poll() is None
        first.send(signal.SIGTERM)
        done = first.finish()
    assert second.code == 75, second.stderr
    assert still_running, "the second sync waited for the first one instead of leaving at once"
    assert json.loads(second.stdout.splitlines()[-1])["exit_code"] == 75
    assert done.code == 143, done.stderr
    assert_conservation(done, data_rows(sheet))
    assert len(list(out.glob("2*"))) == 1, "the locked-out sync made no run folder"


def test_a_sync_killed_with_kill_9_leaves_no_stale_lock(tmp_path: Path) -> None:
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, mailboxes(24))
    out = tmp_path / "out"
    with sandbox_process("--latency-ms", "150") as box:
        victim = start_cli(["sync", str(sheet), *FAST, "--concurrency", "2"], out, url=box.url)
        box.wait_for_imap_auth(4)
        victim.send(signal.SIGKILL)
        assert victim.finish().code == -signal.SIGKILL
        result = sync(sheet, out, box.url, "--concurrency", "8")
        assert box.accounts() == 24
    assert result.code == 0, result.stderr
    assert_conservation(result, data_rows(sheet))


def test_the_state_file_holds_no_password(sandbox: SandboxProcess, tmp_path: Path) -> None:
    boxes = mailboxes(5)
    sheet = tmp_path / "in.csv"
    passwords = write_mailboxes(sheet, boxes)
    out = tmp_path / "out"
    sync(sheet, out, sandbox.url)
    boxes[0] = Mailbox(boxes[0].email, "second-password-456")
    passwords |= write_mailboxes(sheet, boxes)
    result = sync(sheet, out, sandbox.url)
    files = state_files(out)
    assert {p.name for p in files} >= {"sync-state.sqlite", "sync-state.sqlite.key"}
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path.name
        blob = path.read_bytes()
        assert not [p for p in passwords if p.encode() in blob], path.name
    assert_no_secret(result, passwords | {SANDBOX_KEY})


def test_all_resubmits_every_row(sandbox: SandboxProcess, tmp_path: Path) -> None:
    boxes = mailboxes(4)
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    sync(sheet, tmp_path / "out", sandbox.url)
    clear_log(sandbox.url)
    result = sync(sheet, tmp_path / "out", sandbox.url, "--all")
    assert result.code == 0, result.stderr
    assert sorted(sandbox.accepted()) == sorted(b.email for b in boxes)
    assert len(accounts_by_email(sandbox.url, domain_of(boxes))) == 4


def test_a_row_that_failed_last_time_is_submitted_again(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    boxes = mailboxes(3)
    boxes[1] = Mailbox(boxes[1].email, "wrong-password")
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, boxes)
    first = sync(sheet, tmp_path / "out", sandbox.url)
    assert first.code == 1
    clear_log(sandbox.url)
    result = sync(sheet, tmp_path / "out", sandbox.url)
    assert result.code == 1
    assert [r["email"] for r in sandbox.imap_auth()] == [boxes[1].email]
    assert [r["error_code"] for r in result.report("failed.csv")] == ["auth_failed"]


def test_json_logs_are_one_object_per_line_ending_with_the_summary(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, mailboxes(3))
    result = sync(sheet, tmp_path / "out", sandbox.url, "--log-format", "json")
    events = [json.loads(line)["event"] for line in result.stderr.splitlines()]
    assert [e for e in events if e != "progress"] == [
        "start",
        "listing",
        "run_folder",
        "plan",
        "finished",
    ]
    assert events[-1] == "finished"
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["event"] == "summary"
    assert summary["command"] == "sync"
    assert (summary["exit_code"], summary["succeeded"], summary["skipped"]) == (0, 3, 0)


def test_a_refused_key_exits_77_and_leaves_every_row_unprocessed(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, mailboxes(3))
    clear_log(sandbox.url)
    result = sync(sheet, tmp_path / "out", sandbox.url, key="not-the-key")
    assert result.code == 77, result.stderr
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"aborted"}
    assert_conservation(result, data_rows(sheet))
    assert sandbox.imap_auth() == []


def test_a_sync_against_an_unreachable_api_exits_69(tmp_path: Path) -> None:
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, mailboxes(3))
    result = sync(sheet, tmp_path / "out", "http://127.0.0.1:9/api", "--max-attempts", "2")
    assert result.code == 69, result.stderr
    assert_conservation(result, data_rows(sheet))


def test_a_dry_run_teaches_the_state_nothing(sandbox: SandboxProcess, tmp_path: Path) -> None:
    sheet = tmp_path / "in.csv"
    write_mailboxes(sheet, mailboxes(3))
    sync(sheet, tmp_path / "out", sandbox.url, "--dry-run")
    result = sync(sheet, tmp_path / "out", sandbox.url)
    assert result.code == 0, result.stderr
    assert len(result.report("succeeded.csv")) == 3
