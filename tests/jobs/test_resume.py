"""`run --resume RUN_DIR` and `run --retry-failed RUN_DIR`, end to end against a sandbox process.

Resume finishes a run in its own folder without re-sending settled rows; retry-failed starts a new
folder holding only the rows that failed or were left unprocessed, re-read from the input named in
the first run's manifest. Each test checks, from the server's own log, exactly what was sent.
The kill -9 case is in test_faults.py with the other faults.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.cli import (
    Mailbox,
    Result,
    assert_conservation,
    assert_no_secret,
    data_rows,
    emails_by_report,
    run_cli,
    start_cli,
    unique_mailboxes,
    write_mailboxes,
)
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress"]
FIXED_PASSWORD = "fixed-pw-4f1c9e27"
DEAD_API = "http://127.0.0.1:9/api"  # nothing listens: a test that must not send can't


@pytest.fixture
def box() -> Iterator[SandboxProcess]:
    with sandbox_process() as sandbox:
        yield sandbox


def a_sheet(
    tmp_path: Path, rows: int, *, wrong_password_at: int | None = None
) -> tuple[Path, set[str]]:
    """A sheet of unique mailboxes, one of them maybe with the magic `wrong-password`."""
    mailboxes = unique_mailboxes(rows)
    if wrong_password_at is not None:
        mailboxes[wrong_password_at] = Mailbox(mailboxes[wrong_password_at].email, "wrong-password")
    sheet = tmp_path / "in.csv"
    return sheet, write_mailboxes(sheet, mailboxes) | {SANDBOX_KEY, FIXED_PASSWORD}


def one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].rstrip().endswith("."), lines[0]
    assert "Traceback" not in stderr
    return lines[0]


def sent_since(box: SandboxProcess, before: int) -> list[str]:
    """Emails of the imap_auth requests the server logged after the first `before` of them."""
    return [r["email"] for r in box.imap_auth()[before:]]


def resumed_after_an_edit(
    box: SandboxProcess, tmp_path: Path, edit: Callable[[list[str]], list[str]]
) -> tuple[Result, Path, set[str], int]:
    """A finished 5-row run (exit 0), its sheet's lines edited, then `--resume --force`: the
    resumed run (exit 0), the sheet, its secrets, and how many imap_auth requests came before it."""
    sheet, secrets = a_sheet(tmp_path, 5)
    out = tmp_path / "out"
    first = run_cli(["run", str(sheet), *FAST], out, url=box.url)
    assert first.code == 0, first.stderr
    sheet.write_text("\n".join(edit(sheet.read_text().splitlines())) + "\n")
    before = len(box.imap_auth())
    args = ["run", "--resume", str(first.run_dir), "--force", *FAST]
    resumed = run_cli(args, out, url=box.url)
    assert resumed.code == 0, resumed.stderr
    return resumed, sheet, secrets, before


def assert_private_and_whole(result: Result, rows: list[int], secrets: set[str]) -> None:
    assert_conservation(result, rows)
    assert_no_secret(result, secrets)
    assert "Traceback" not in result.stderr


# --resume


@pytest.mark.timeout(60)
def test_resume_after_a_signal_sends_only_the_rows_left_unprocessed(tmp_path: Path) -> None:
    sheet, secrets = a_sheet(tmp_path, 120)
    out = tmp_path / "out"
    with sandbox_process("--latency-ms", "50") as box:
        run = start_cli(["run", str(sheet), *FAST, "--concurrency", "4"], out, url=box.url)
        box.wait_for_imap_auth(20)
        run.send(signal.SIGTERM)
        stopped = run.finish()
        left = emails_by_report(stopped)["unprocessed.csv"]
        before = len(box.imap_auth())
        resumed = run_cli(["run", "--resume", str(stopped.run_dir), *FAST], out, url=box.url)
        resent = sent_since(box, before)
        accepted = Counter(box.accepted())
    assert stopped.code == 143, stopped.stderr
    assert left, "the signal came too late to leave rows unprocessed"
    assert resumed.code == 0, resumed.stderr
    assert resumed.run_dir == stopped.run_dir
    assert_private_and_whole(resumed, data_rows(sheet), secrets)
    assert set(resent) == left
    assert set(accepted.values()) == {1}, "no row was sent twice"
    assert emails_by_report(resumed)["succeeded.csv"] == set(accepted)


@pytest.mark.timeout(60)
def test_resume_of_a_finished_run_sends_nothing(box: SandboxProcess, tmp_path: Path) -> None:
    sheet, secrets = a_sheet(tmp_path, 5, wrong_password_at=2)
    out = tmp_path / "out"
    first = run_cli(["run", str(sheet), *FAST], out, url=box.url)
    first_failed = first.report("failed.csv")
    before = len(box.imap_auth())
    resumed = run_cli(["run", "--resume", str(first.run_dir), *FAST], out, url=box.url)
    assert first.code == resumed.code == 1, resumed.stderr
    assert sent_since(box, before) == []
    assert_private_and_whole(resumed, data_rows(sheet), secrets)
    assert resumed.report("failed.csv") == first_failed
    assert "Every row of the earlier run is settled already" in resumed.stderr
    assert "no data rows" not in resumed.stderr


@pytest.mark.timeout(60)
def test_resume_refuses_a_changed_input_in_one_sentence(tmp_path: Path) -> None:
    sheet, secrets = a_sheet(tmp_path, 5, wrong_password_at=2)
    out = tmp_path / "out"
    with sandbox_process() as box:
        first = run_cli(["run", str(sheet), *FAST], out, url=box.url)
    reports = {name: first.report(name) for name in ("succeeded.csv", "failed.csv")}
    sheet.write_text(sheet.read_text().replace("wrong-password", FIXED_PASSWORD))
    refused = run_cli(["run", "--resume", str(first.run_dir), *FAST], out, url=DEAD_API)
    assert refused.code == 2
    assert "--force" in one_sentence(refused.stderr)
    assert {name: refused.report(name) for name in reports} == reports
    assert_no_secret(refused, secrets)


@pytest.mark.timeout(60)
def test_resume_with_force_carries_on_with_the_changed_input(
    box: SandboxProcess, tmp_path: Path
) -> None:
    extra = "late@fleet.test,Test,Late,imap.fleet.test,993,smtp.fleet.test,587,late-pw-93ab11"
    resumed, sheet, secrets, before = resumed_after_an_edit(
        box, tmp_path, lambda lines: [*lines, extra]
    )
    assert sent_since(box, before) == ["late@fleet.test"]
    assert_private_and_whole(resumed, data_rows(sheet), secrets | {"late-pw-93ab11"})


@pytest.mark.timeout(60)
def test_resume_refuses_another_input_even_with_force_and_keeps_every_report(
    tmp_path: Path,
) -> None:
    sheet, secrets = a_sheet(tmp_path, 5)
    other = tmp_path / "other.csv"
    other_secrets = write_mailboxes(other, [Mailbox("else@fleet.test")])
    out = tmp_path / "out"
    with sandbox_process() as box:
        first = run_cli(["run", str(sheet), *FAST], out, url=box.url)
    reports = {name: first.report(name) for name in ("succeeded.csv", "failed.csv")}
    args = ["run", str(other), "--resume", str(first.run_dir), "--force", *FAST]
    refused = run_cli(args, out, url=DEAD_API)
    assert refused.code == 2
    said = one_sentence(refused.stderr)
    assert f"was made from {sheet}, not {other}" in said
    assert {name: refused.report(name) for name in reports} == reports
    assert_no_secret(refused, secrets | other_secrets)


@pytest.mark.timeout(60)
def test_resume_with_force_after_rows_left_the_sheet_says_how_many_were_connected(
    box: SandboxProcess, tmp_path: Path
) -> None:
    resumed, sheet, secrets, _ = resumed_after_an_edit(
        box,
        tmp_path,
        lambda lines: lines[:1] + lines[3:],  # rows 2 and 3 deleted
    )
    assert_private_and_whole(resumed, data_rows(sheet), secrets)
    assert "3 settled rows are on other row numbers now" in resumed.stderr
    assert (
        "2 settled rows are no longer in it and leave the reports (2 of them connected: their "
        "MailReach accounts stay)."
    ) in resumed.stderr


def test_resume_refuses_a_folder_that_is_not_a_run_folder(tmp_path: Path) -> None:
    result = run_cli(["run", "--resume", str(tmp_path), *FAST], tmp_path / "out", url=DEAD_API)
    assert result.code == 2
    one_sentence(result.stderr)


# --retry-failed


@pytest.mark.timeout(60)
def test_retry_failed_sends_only_the_row_fixed_in_the_sheet(
    box: SandboxProcess, tmp_path: Path
) -> None:
    sheet, secrets = a_sheet(tmp_path, 10, wrong_password_at=3)
    out = tmp_path / "out"
    first = run_cli(["run", str(sheet), *FAST], out, url=box.url)
    first_dir = first.run_dir  # OUT/latest moves on with the next run
    [failed] = first.report("failed.csv")
    assert failed["error_code"] == "auth_failed"
    sheet.write_text(sheet.read_text().replace("wrong-password", FIXED_PASSWORD))
    before = len(box.imap_auth())
    retry = run_cli(["run", "--retry-failed", str(first_dir), *FAST], out, url=box.url)
    assert first.code == 1
    assert retry.code == 0, retry.stderr
    assert retry.run_dir != first_dir
    assert sent_since(box, before) == [failed["email"]]
    assert_private_and_whole(retry, [int(failed["row"])], secrets)
    assert box.accounts() == 10


@pytest.mark.timeout(60)
def test_retry_failed_sends_the_rows_an_interrupted_run_left_unprocessed(tmp_path: Path) -> None:
    sheet, secrets = a_sheet(tmp_path, 120)
    out = tmp_path / "out"
    with sandbox_process("--latency-ms", "50") as box:
        run = start_cli(["run", str(sheet), *FAST, "--concurrency", "4"], out, url=box.url)
        box.wait_for_imap_auth(20)
        run.send(signal.SIGINT)
        stopped = run.finish()
        left = {int(r["row"]): r["email"] for r in stopped.report("unprocessed.csv")}
        before = len(box.imap_auth())
        args = ["run", "--retry-failed", str(stopped.run_dir), *FAST]
        retry = run_cli(args, out, url=box.url)
        resent = sent_since(box, before)
        accepted = Counter(box.accepted())
    assert stopped.code == 130, stopped.stderr
    assert retry.code == 0, retry.stderr
    assert_private_and_whole(retry, list(left), secrets)
    assert sorted(resent) == sorted(left.values())
    assert set(accepted.values()) == {1}, "no row was sent twice"


@pytest.mark.timeout(60)
def test_retry_failed_resends_a_fixed_invalid_row_but_never_a_duplicate(
    box: SandboxProcess, tmp_path: Path
) -> None:
    mailboxes = unique_mailboxes(4)
    mailboxes[1] = Mailbox(mailboxes[1].email, imap_port="99999")
    mailboxes.append(Mailbox(mailboxes[0].email))  # row 6 repeats row 2's email
    sheet = tmp_path / "in.csv"
    secrets = write_mailboxes(sheet, mailboxes) | {SANDBOX_KEY}
    out = tmp_path / "out"
    first = run_cli(["run", str(sheet), *FAST], out, url=box.url)
    codes = {int(r["row"]): r["error_code"] for r in first.report("failed.csv")}
    assert codes == {3: "invalid_port", 6: "duplicate_email"}
    sheet.write_text(sheet.read_text().replace(",99999,", ",993,"))
    before = len(box.imap_auth())
    retry = run_cli(["run", "--retry-failed", str(first.run_dir), *FAST], out, url=box.url)
    assert retry.code == 0, retry.stderr
    assert sent_since(box, before) == [mailboxes[1].email]
    assert_private_and_whole(retry, [3], secrets)


@pytest.mark.timeout(60)
def test_resume_with_force_after_a_row_was_inserted_reports_every_mailbox_once(
    box: SandboxProcess, tmp_path: Path
) -> None:
    new = "new@fleet.test,Test,New,imap.fleet.test,993,smtp.fleet.test,587,new-pw-5c2d07"
    resumed, sheet, secrets, before = resumed_after_an_edit(
        box, tmp_path, lambda lines: [lines[0], new, *lines[1:]]
    )
    lines = sheet.read_text().splitlines()
    assert_private_and_whole(resumed, data_rows(sheet), secrets | {"new-pw-5c2d07"})
    assert sent_since(box, before) == ["new@fleet.test"]
    in_sheet = {n: line.split(",")[0] for n, line in enumerate(lines[1:], start=2)}
    reported = {int(r["row"]): r["email"] for r in resumed.report("succeeded.csv")}
    assert reported == in_sheet


@pytest.mark.timeout(90)
def test_resume_of_an_interrupted_retry_sends_only_the_rows_left_of_that_retry(
    tmp_path: Path,
) -> None:
    sheet, secrets = a_sheet(tmp_path, 120)
    out = tmp_path / "out"
    with sandbox_process("--latency-ms", "50") as box:
        run = start_cli(["run", str(sheet), *FAST, "--concurrency", "4"], out, url=box.url)
        box.wait_for_imap_auth(10)
        run.send(signal.SIGTERM)
        original = run.finish()
        original_dir = original.run_dir
        done_first = emails_by_report(original)["succeeded.csv"]
        retry_rows = [int(r["row"]) for r in original.report("unprocessed.csv")]
        args = ["run", "--retry-failed", str(original_dir), *FAST, "--concurrency", "4"]
        run = start_cli(args, out, url=box.url)
        box.wait_for_imap_auth(len(done_first) + 10)
        run.send(signal.SIGTERM)
        retry = run.finish()
        retry_dir = retry.run_dir
        before = len(box.imap_auth())
        resumed = run_cli(["run", "--resume", str(retry_dir), *FAST], out, url=box.url)
        resent = set(sent_since(box, before))
        accepted = Counter(box.accepted())
    assert original.code == retry.code == 143
    assert resumed.code == 0, resumed.stderr
    assert resumed.run_dir == retry_dir
    assert not resent & done_first, "a row that succeeded in the original run was sent again"
    assert set(accepted.values()) == {1}
    assert_private_and_whole(resumed, retry_rows, secrets)
